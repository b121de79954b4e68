package jwks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
)

// provider is an httptest identity provider serving a discovery document
// at /.well-known/openid-configuration and a key set at /jwks.
type provider struct {
	srv      *httptest.Server
	jwks     atomic.Value // []byte
	handler  atomic.Value // optional override of /jwks: http.HandlerFunc
	hits     atomic.Int32
	lastReq  atomic.Value // http.Header of the last /jwks request
	notFound atomic.Bool  // discovery answers 404
}

func newProvider(t *testing.T, body []byte) *provider {
	t.Helper()
	p := &provider{}
	p.jwks.Store(body)
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.lastReq.Store(r.Header.Clone())
		if h, ok := p.handler.Load().(http.HandlerFunc); ok && h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(p.jwks.Load().([]byte))
	})
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if p.notFound.Load() {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"issuer":"x","jwks_uri":%q,"other":[1,2]}`, p.srv.URL+"/jwks")
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) set(t *testing.T, opts Options) *Set {
	t.Helper()
	if opts.URL == "" && opts.DiscoveryURL == "" {
		opts.URL = p.srv.URL + "/jwks"
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestFetch_ReadsKeySetOverHTTP(t *testing.T) {
	p := newProvider(t, jwttest.Set(jwttest.Shared("RS256", "fetch").JWK("kid/1", true)))
	s := p.set(t, Options{})
	k, err := s.Key(context.Background(), "kid/1")
	if err != nil || k.Algorithm != "RS256" {
		t.Fatalf("Key = %v, %v", k, err)
	}
	accept := p.lastReq.Load().(http.Header).Get("Accept")
	if !strings.Contains(accept, "application/jwk-set+json") {
		t.Fatalf("Accept = %q", accept)
	}
}

func TestFetch_DiscoveryFindsTheKeySet(t *testing.T) {
	p := newProvider(t, jwttest.Set(jwttest.Shared("ES256", "fetch").JWK("e", true)))
	s := p.set(t, Options{DiscoveryURL: p.srv.URL + "/.well-known/openid-configuration"})
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s.now = clock.now
	if _, err := s.Key(context.Background(), "e"); err != nil {
		t.Fatal(err)
	}
	p.notFound.Store(true)
	clock.advance(time.Second) // the next refresh is due
	_, err := s.Key(context.Background(), "other")
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "discovery") {
		t.Fatalf("discovery 404: err = %v, want unavailable naming discovery", err)
	}
}

func TestFetch_FailuresAreUnavailable(t *testing.T) {
	big := `{"keys":[],"pad":"` + strings.Repeat("x", 4096) + `"}`
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    Options
		wantMsg string
	}{
		{name: "HTTP error status", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}, wantMsg: "500"},
		{name: "malformed key set", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys": [`))
		}, wantMsg: "not a JSON Web Key Set"},
		{name: "HTML instead of JSON", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<html>login</html>`))
		}, wantMsg: "not a JSON Web Key Set"},
		{name: "Content-Length over the limit", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(big))
		}, opts: Options{MaxResponseBytes: 1024}, wantMsg: "larger than 1024"},
		{name: "chunked body over the limit without Content-Length", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(big[:2048]))
			w.(http.Flusher).Flush() // forces chunked encoding: no Content-Length
			w.Write([]byte(big[2048:]))
		}, opts: Options{MaxResponseBytes: 1024}, wantMsg: "larger than 1024"},
		{name: "more keys than max_jwks_keys", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Write(jwttest.Set(jwttest.Shared("HS256", "a").JWK("a", true), jwttest.Shared("HS256", "b").JWK("b", true)))
		}, opts: Options{MaxKeys: 1}, wantMsg: "more than the allowed 1"},
		{name: "timeout", handler: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // never answers
		}, opts: Options{RequestTimeout: 50 * time.Millisecond}, wantMsg: "getting key set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, nil)
			p.handler.Store(tt.handler)
			s := p.set(t, tt.opts)
			_, err := s.Key(context.Background(), "a")
			if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want unavailable containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestFetch_ConditionalRequestKeepsKeysOnNotModified(t *testing.T) {
	key := jwttest.Shared("HS256", "cache").JWK("a", true)
	p := newProvider(t, nil)
	p.handler.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(jwttest.Set(key))
	}))
	s := p.set(t, Options{HTTPCache: true})
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s.now = clock.now
	ctx := context.Background()
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Second) // the next refresh is due
	if _, err := s.Key(ctx, "b"); !errors.Is(err, ErrUnknownKID) {
		t.Fatalf("err = %v, want ErrUnknownKID", err)
	}
	if got := p.lastReq.Load().(http.Header).Get("If-None-Match"); got != `"v1"` {
		t.Fatalf("If-None-Match = %q, want the ETag", got)
	}
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatalf("key lost after 304: %v", err)
	}
	if p.hits.Load() != 2 {
		t.Fatalf("hits = %d, want 2", p.hits.Load())
	}
}

func TestFetch_UnknownKIDFloodStaysWithinTheRateLimit(t *testing.T) {
	p := newProvider(t, jwttest.Set(jwttest.Shared("HS256", "flood").JWK("a", true)))
	s := p.set(t, Options{RefreshLimit: 5, RefreshWindow: time.Hour})
	ctx := context.Background()
	attacks := []string{"../../../../etc/passwd", "' OR 1=1 --", "a\x00b", "%2e%2e%2f", strings.Repeat("A", 1000)}
	for i := range 50 {
		if _, err := s.Key(ctx, attacks[i%len(attacks)]); !errors.Is(err, ErrUnknownKID) {
			t.Fatalf("attempt %d: err = %v, want ErrUnknownKID", i, err)
		}
	}
	// The initial load answers the first kid; the next refresh is due 12
	// minutes later (an hour / 5), so every later unknown kid is refused at
	// once without a request.
	if got := p.hits.Load(); got != 1 {
		t.Fatalf("key set fetched %d times, want 1", got)
	}
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatalf("the real key during the flood: %v", err)
	}
}

// A MaxResponseBytes of math.MaxInt64 is no limit; the read limit, one byte
// over it, overflowed and every body read as empty (found by review).
func TestFetch_LargestResponseLimitDoesNotOverflow(t *testing.T) {
	p := newProvider(t, jwttest.Set(jwttest.Shared("HS256", "fetch-max").JWK("a", true)))
	s := p.set(t, Options{MaxResponseBytes: math.MaxInt64})
	if _, err := s.Key(context.Background(), "a"); err != nil {
		t.Fatalf("Key: %v", err)
	}
}

// TestFetch_MessagesHideThePassword: a jwks_uri may carry credentials
// (https://user:secret@idp/...); what is logged and answered must not.
func TestFetch_MessagesHideThePassword(t *testing.T) {
	p := newProvider(t, nil)
	p.handler.Store(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	s := p.set(t, Options{URL: strings.Replace(p.srv.URL, "http://", "http://svc:s3cret@", 1) + "/jwks"})
	_, err := s.Key(context.Background(), "k")
	if err == nil || !strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want the 500 without the password", err)
	}
	for _, bad := range []string{"ftp://svc:s3cret@idp/jwks", "http://svc:s3cret@/jwks", "http://svc:s3cret@idp/%zz"} {
		if err := checkURL(bad); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("checkURL(%q) = %v, want an error without the password", bad, err)
		}
	}
}

// TestFetch_DiscoveryMemberIsExact: "jwks_uri" as spelled, once.
func TestFetch_DiscoveryMemberIsExact(t *testing.T) {
	for _, doc := range []string{`{"JWKS_URI":%q}`, `{"jwks_uri":"http://elsewhere.invalid/jwks","jwks_uri":%q}`} {
		mux := http.NewServeMux()
		var srv *httptest.Server
		mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
			w.Write(jwttest.Set(jwttest.Shared("ES256", "fetch").JWK("e", true)))
		})
		mux.HandleFunc("/disco", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, doc, srv.URL+"/jwks") })
		srv = httptest.NewServer(mux)
		s, err := New(Options{DiscoveryURL: srv.URL + "/disco"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Key(context.Background(), "e")
		s.Close()
		srv.Close()
		if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "discovery document") {
			t.Errorf("discovery %s: err = %v, want unavailable naming the discovery document", doc, err)
		}
	}
}
