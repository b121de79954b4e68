package proxytest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"
)

// Traefik is not packaged in Debian 12, so its example is checked as
// config only: it must point at realmd's /auth and copy realmd's identity
// headers, under the names realmd.yml gives them.

type traefikDynamic struct {
	HTTP struct {
		Routers map[string]struct {
			EntryPoints []string `yaml:"entryPoints"`
			Rule        string   `yaml:"rule"`
			Middlewares []string `yaml:"middlewares"`
			Service     string   `yaml:"service"`
		} `yaml:"routers"`
		Middlewares map[string]struct {
			ForwardAuth *struct {
				Address             string   `yaml:"address"`
				TrustForwardHeader  bool     `yaml:"trustForwardHeader"`
				AuthResponseHeaders []string `yaml:"authResponseHeaders"`
			} `yaml:"forwardAuth"`
		} `yaml:"middlewares"`
		Services map[string]struct {
			LoadBalancer struct {
				Servers []struct {
					URL string `yaml:"url"`
				} `yaml:"servers"`
			} `yaml:"loadBalancer"`
		} `yaml:"services"`
	} `yaml:"http"`
}

type traefikStatic struct {
	EntryPoints map[string]struct {
		Address string `yaml:"address"`
	} `yaml:"entryPoints"`
	Providers struct {
		File struct {
			Filename string `yaml:"filename"`
		} `yaml:"file"`
	} `yaml:"providers"`
}

// quickstartHeaders are the identity header names in the quickstart's
// realmd.yml, in the order user, roles, backend roles.
func quickstartHeaders(t *testing.T) []string {
	t.Helper()
	var cfg struct {
		Headers struct {
			User         string `yaml:"user"`
			Roles        string `yaml:"roles"`
			BackendRoles string `yaml:"backend_roles"`
		} `yaml:"headers"`
	}
	readYAML(t, filepath.Join("..", "quickstart", "realmd.yml"), &cfg, false)
	return []string{cfg.Headers.User, cfg.Headers.Roles, cfg.Headers.BackendRoles}
}

// readYAML decodes path into v; strict rejects keys v does not name.
func readYAML(t *testing.T, path string, v any, strict bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestTraefik_ExampleForwardsToRealmdAndCopiesItsIdentityHeaders(t *testing.T) {
	if got := quickstartHeaders(t); !slices.Equal(got, identityHeaders) {
		t.Fatalf("quickstart realmd.yml headers %q, want the defaults %q", got, identityHeaders)
	}
	var static traefikStatic
	readYAML(t, filepath.Join("..", "traefik", "traefik.yml"), &static, true)
	if got := static.EntryPoints["web"].Address; got != exampleListen {
		t.Errorf("entry point web listens on %q, want %q", got, exampleListen)
	}
	// The file provider's path is relative to the repository root.
	if _, err := os.Stat(filepath.Join("..", "..", static.Providers.File.Filename)); err != nil {
		t.Errorf("file provider: %v", err)
	}

	var dyn traefikDynamic
	readYAML(t, filepath.Join("..", "traefik", "dynamic.yml"), &dyn, true)
	router, ok := dyn.HTTP.Routers["app"]
	if !ok {
		t.Fatal("no router app")
	}
	if router.Rule == "" {
		t.Error("router app has no rule")
	}
	if !slices.Equal(router.EntryPoints, []string{"web"}) || !slices.Equal(router.Middlewares, []string{"realmd"}) {
		t.Errorf("router app: entry points %q, middlewares %q; want [web] and [realmd]", router.EntryPoints, router.Middlewares)
	}
	fa := dyn.HTTP.Middlewares["realmd"].ForwardAuth
	if fa == nil {
		t.Fatal("middleware realmd has no forwardAuth")
	}
	if want := "http://" + exampleRealmd + "/auth"; fa.Address != want {
		t.Errorf("forwardAuth address %q, want %q", fa.Address, want)
	}
	if fa.TrustForwardHeader {
		t.Error("forwardAuth trusts the client's X-Forwarded-* headers")
	}
	if !slices.Equal(fa.AuthResponseHeaders, identityHeaders) {
		t.Errorf("authResponseHeaders %q, want %q", fa.AuthResponseHeaders, identityHeaders)
	}
	svc, ok := dyn.HTTP.Services[router.Service]
	if !ok || len(svc.LoadBalancer.Servers) != 1 || svc.LoadBalancer.Servers[0].URL != "http://"+exampleUpstream {
		t.Errorf("service %q: %+v, want one server http://%s", router.Service, svc, exampleUpstream)
	}
}
