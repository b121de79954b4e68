package proxytest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Kubernetes and systemd samples cannot run here (no cluster, no
// systemd): check that they run realmd the way realmd expects.

func TestKubernetesSample_ServesTheMountedConfig(t *testing.T) {
	b, err := os.ReadFile("../kubernetes/realmd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var deployment struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Template struct {
				Metadata struct {
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"metadata"`
				Spec struct {
					Containers []struct {
						Args  []string `yaml:"args"`
						Ports []struct {
							ContainerPort int `yaml:"containerPort"`
						} `yaml:"ports"`
						ReadinessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
						LivenessProbe struct {
							HTTPGet struct{ Path string } `yaml:"httpGet"`
						} `yaml:"livenessProbe"`
						VolumeMounts []struct {
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		if err := dec.Decode(&deployment); errors.Is(err, io.EOF) {
			t.Fatal("no Deployment in the manifest")
		} else if err != nil {
			t.Fatal(err)
		}
		if deployment.Kind == "Deployment" {
			break
		}
	}
	c := deployment.Spec.Template.Spec.Containers[0]
	i := slices.Index(c.Args, "--config")
	if len(c.Args) == 0 || c.Args[0] != "serve" || i < 0 || i+1 >= len(c.Args) {
		t.Fatalf("args %q: want serve --config DIR", c.Args)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m struct {
		MountPath string `yaml:"mountPath"`
	}) bool {
		return m.MountPath == c.Args[i+1]
	}) {
		t.Errorf("the volumes are mounted at %+v, but realmd reads %s", c.VolumeMounts, c.Args[i+1])
	}
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes %q and %q, want /readyz and /healthz", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	if !strings.Contains(string(b), "kind: NetworkPolicy") {
		t.Error("no NetworkPolicy: every pod in the cluster could reach /auth, /metrics and /_realmd/status")
	}
	a := deployment.Spec.Template.Metadata.Annotations
	if a["prometheus.io/path"] != "/metrics" || len(c.Ports) != 1 || a["prometheus.io/port"] != strconv.Itoa(c.Ports[0].ContainerPort) {
		t.Errorf("prometheus annotations %v for ports %+v, want /metrics on the container's port", a, c.Ports)
	}
}

func TestSystemdSample_ReloadsWithSIGHUPAndServesEtcRealmd(t *testing.T) {
	b, err := os.ReadFile("../systemd/realmd.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		"ExecStart=/usr/local/bin/realmd serve --config /etc/realmd",
		"ExecReload=/bin/kill -HUP $MAINPID",
		"KillMode=mixed",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("realmd.service lacks %q", want)
		}
	}
}
