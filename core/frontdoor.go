package core

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk"
)

// retryAfterSeconds is what a 503 asks clients to wait.
const retryAfterSeconds = "1"

// frontDoor serves the HTTP API on whatever generation is current.
type frontDoor struct {
	d      *Daemon
	logger hclog.Logger
}

func (f *frontDoor) routes() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/_authenticate", "/_plugins/_security/authinfo", "/_opendistro/_security/authinfo"} {
		mux.HandleFunc(p, f.authinfo)
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok\n") })
	mux.HandleFunc("/readyz", f.readyz)
	mux.HandleFunc("/_realmd/status", f.status)
	mux.Handle("/metrics", f.d.metrics.handler())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No answer may be cached: a proxy cache that kept one user's 200
		// would hand that identity to every later request (found by
		// review, with nginx's proxy_cache set at server level).
		w.Header()["Cache-Control"] = noStore
		if r.ContentLength != 0 {
			// A request that declares a body (a length, or chunked): no
			// endpoint reads one, and Go's server reads up to 256 KiB of
			// it, with no deadline, before it writes the answer and again
			// when it closes the body, to keep the connection. A client
			// (or a proxy forwarding the client's Content-Length to /auth)
			// that never sent the body held the connection and its
			// goroutine for ever, and about a thousand such requests
			// stopped realmd answering /healthz (found by review). With
			// Connection: close Go does not read the body before the
			// answer (net/http's chunkWriter.writeHeader skips it when
			// closeAfterReply is set), and a read deadline that has
			// passed makes the body's Close, after the handler, give up
			// at once; the connection is then closed.
			w.Header().Set("Connection", "close")
			defer func() { _ = http.NewResponseController(w).SetReadDeadline(time.Now()) }()
		}
		// Forward-auth is routed before the mux, which would answer a path
		// holding //, /./ or /../ with a redirect to its cleaned form:
		// Envoy's ext_authz appends the client's path to /auth, and hands
		// any answer but 200 to the client as a denial.
		if p := r.URL.Path; p == "/auth" || strings.HasPrefix(p, "/auth/") {
			f.forwardAuth(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// joinRoles writes roles for a header: comma-separated, with a comma inside
// a role written %2C (and % as %25), so that a comma always separates two
// roles. Found by review: a JWT role "dev,all_access", one role to realmd,
// was two to the application, one of them all_access.
func joinRoles(roles []string) string {
	for i, r := range roles {
		if strings.ContainsAny(r, ",%") {
			escaped := slices.Clone(roles)
			for j := i; j < len(roles); j++ {
				escaped[j] = roleEscaper.Replace(roles[j])
			}
			return strings.Join(escaped, ",")
		}
	}
	return strings.Join(roles, ",")
}

var roleEscaper = strings.NewReplacer("%", "%25", ",", "%2C")

// noStore is the Cache-Control of every answer; net/http only reads it.
var noStore = []string{"no-store"}

// verdict is how one generation answered a request: the generation whose
// settings (identity header names) the answer must be written with, and
// either the identity or what to write instead.
type verdict struct {
	g   *Generation
	req *sdk.Request // nil when the request was refused before the pipeline
	res pipeline.Result
	// fail, when set, answers a request refused before the pipeline ran.
	fail func(w http.ResponseWriter)
}

// identity is the authenticated identity, or nil.
func (v *verdict) identity() *pipeline.Identity {
	if v.fail != nil || v.res.Outcome != pipeline.Authenticated {
		return nil
	}
	return v.res.Identity
}

// writeFailure answers a request that was not authenticated.
func (v *verdict) writeFailure(w http.ResponseWriter) {
	if v.fail != nil {
		v.fail(w)
		return
	}
	writeFailure(w, v.res)
}

// authenticate runs r through the current generation. When a reload closes
// that generation under the request, the generation that replaced it
// answers, and every check (reserved headers included) is that
// generation's: a request is never checked against one generation's
// identity header names and answered with another's.
func (f *frontDoor) authenticate(r *http.Request) *verdict {
	start := time.Now()
	v := &verdict{g: f.d.current.Load()}
	for {
		if why := forbiddenHeader(r.Header, v.g.Settings.Realmd.Headers); why != "" {
			f.d.metrics.answered(outcomeForbidden, false, start)
			v.fail = func(w http.ResponseWriter) {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": why, "status": 403})
			}
			return v
		}
		req, caller, err := newRequest(r, v.g.xff)
		if err != nil {
			f.d.metrics.answered(outcomeError, false, start)
			v.fail = func(w http.ResponseWriter) {
				writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error(), "status": 500})
			}
			return v
		}
		v.req, v.res = req, v.g.Pipeline.Authenticate(r.Context(), req, caller)
		// A reload closed g after this request picked it: the generation
		// that replaced it answers instead.
		next := f.d.current.Load()
		if !v.res.Closed || next == nil || next == v.g {
			break
		}
		v.g = next
	}
	f.d.metrics.answered(outcomeOf(v.res), v.res.Cached, start)
	if f.logger.IsDebug() {
		// Without the query: it may carry a token (jwt_url_parameter).
		path, _, _ := strings.Cut(v.req.Path, "?")
		f.logger.Debug("request answered", "path", pipeline.LogText(path), "outcome", outcomeOf(v.res), "cached", v.res.Cached)
	}
	return v
}

// forbiddenHeader finds a header a request must not carry: one OpenSearch
// reserves for itself (spec 2.1), or one of realmd's identity headers
// spelled with underscores for dashes or dashes for underscores
// (X_Auth_Roles for X-Auth-Roles, or X-Remote-Roles when the configured
// name is X_Remote_Roles). Proxies replace the identity headers by their
// exact names only, and CGI-style apps (WSGI, Rack) read X_Auth_Roles and
// X-Auth-Roles as one header, joining the values, so the other spelling
// from a client would add roles behind Caddy or Traefik (found by review).
// Every proxy sends the client's headers to /auth, so refusing them here
// covers them all. The exact configured name is the one the proxy
// overwrites, so it is allowed.
//
// It returns why the request is refused, or "". The header is named in
// lower case: Go has canonicalised its spelling (X_Auth_Roles arrives as
// X_auth_roles), and lower case is what an operator can grep for.
func forbiddenHeader(h http.Header, identity config.IdentityHeaders) string {
	const reserved = "_opendistro_security_"
	for name := range h {
		if n := strings.TrimSpace(name); len(n) >= len(reserved) && strings.EqualFold(n[:len(reserved)], reserved) {
			return fmt.Sprintf("header %q is not allowed: names starting with %s are reserved", strings.ToLower(name), reserved)
		}
		for _, id := range [...]string{identity.User, identity.Roles, identity.BackendRoles} {
			if sameHeaderToCGI(name, id) && !strings.EqualFold(name, id) {
				return fmt.Sprintf("header %q is not allowed: it is another spelling of the identity header %s, which applications may read as the same header", strings.ToLower(name), id)
			}
		}
	}
	return ""
}

// sameHeaderToCGI reports whether a and b name one header to a CGI-style
// app: equal but for ASCII case and '-' against '_'.
func sameHeaderToCGI(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		if cgiByte(a[i]) != cgiByte(b[i]) {
			return false
		}
	}
	return true
}

// cgiByte is c as a CGI variable name has it, lower case: '_' for '-'.
func cgiByte(c byte) byte {
	switch {
	case c == '-':
		return '_'
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	}
	return c
}

// forwardAuth is GET /auth for nginx auth_request, Traefik ForwardAuth and
// Caddy forward_auth: 200 with identity headers, or the failure.
func (f *frontDoor) forwardAuth(w http.ResponseWriter, r *http.Request) {
	v := f.authenticate(r)
	// Every identity header is always set, empty unless authenticated, so
	// a proxy that copies them overwrites whatever the client sent. The
	// names are those of the generation that answered.
	user, roles, backendRoles := "", "", ""
	id := v.identity()
	if id != nil {
		user, roles, backendRoles = id.User.Name, joinRoles(id.Roles), joinRoles(id.User.BackendRoles)
	}
	h, hdr := v.g.Settings.Realmd.Headers, w.Header()
	hdr.Set(h.User, user)
	hdr.Set(h.Roles, roles)
	hdr.Set(h.BackendRoles, backendRoles)
	if id == nil {
		v.writeFailure(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// writeFailure answers a request the pipeline did not authenticate.
func writeFailure(w http.ResponseWriter, res pipeline.Result) {
	switch res.Outcome {
	case pipeline.Challenged:
		c := res.Challenge
		if c.WWWAuthenticate != "" {
			w.Header().Set("WWW-Authenticate", c.WWWAuthenticate)
		}
		if c.ContentType != "" {
			w.Header().Set("Content-Type", c.ContentType)
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(c.Body))
	case pipeline.Overloaded:
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeText(w, http.StatusServiceUnavailable, "realmd is overloaded; retry later\n")
	default:
		w.Header().Set("Retry-After", retryAfterSeconds)
		msg := "authentication is temporarily unavailable; retry later\n"
		if len(res.Unavailable) > 0 {
			msg = fmt.Sprintf("authentication is temporarily unavailable (%s); retry later\n", strings.Join(res.Unavailable, ", "))
		}
		writeText(w, http.StatusServiceUnavailable, msg)
	}
}

// authInfo is OpenSearch's authinfo body (spec 5), fields in its order,
// plus realmd's domain, authenticator and attributes.
type authInfo struct {
	User                 string            `json:"user"`
	UserName             string            `json:"user_name"`
	UserRequestedTenant  *string           `json:"user_requested_tenant"`
	RemoteAddress        string            `json:"remote_address"`
	BackendRoles         []string          `json:"backend_roles"`
	CustomAttributeNames []string          `json:"custom_attribute_names"`
	Roles                []string          `json:"roles"`
	Tenants              map[string]bool   `json:"tenants"`
	Principal            *string           `json:"principal"`
	PeerCertificates     string            `json:"peer_certificates"`
	SSOLogoutURL         *string           `json:"sso_logout_url"`
	Domain               string            `json:"domain"`
	Authenticator        string            `json:"authenticator"`
	Attributes           map[string]string `json:"attributes"`
}

func (f *frontDoor) authinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, POST, HEAD")
		writeText(w, http.StatusMethodNotAllowed, "method not allowed\n")
		return
	}
	v := f.authenticate(r)
	id, req := v.identity(), v.req
	if id == nil {
		v.writeFailure(w)
		return
	}
	u := id.User
	var tenant *string
	if t := firstNonEmpty(req.HeaderValue("securitytenant"), req.HeaderValue("security_tenant")); t != "" {
		tenant = &t
	}
	names := keys(u.Attributes)
	info := authInfo{
		User:                 userString(u, tenant),
		UserName:             u.Name,
		UserRequestedTenant:  tenant,
		RemoteAddress:        req.ClientAddress,
		BackendRoles:         nonNil(u.BackendRoles),
		CustomAttributeNames: names,
		Roles:                nonNil(id.Roles),
		Tenants:              map[string]bool{u.Name: true},
		PeerCertificates:     fmt.Sprint(len(req.PeerCertificates)),
		Domain:               id.Domain,
		Authenticator:        id.Authenticator,
		Attributes:           nonNilMap(u.Attributes),
	}
	writeJSON(w, http.StatusOK, info)
}

// userString is OpenSearch's User.toString().
func userString(u sdk.User, tenant *string) string {
	t := "null"
	if tenant != nil {
		t = *tenant
	}
	return fmt.Sprintf("User [name=%s, backend_roles=[%s], requestedTenant=%s]", u.Name, strings.Join(u.BackendRoles, ", "), t)
}

func (f *frontDoor) readyz(w http.ResponseWriter, _ *http.Request) {
	var down []string
	for _, in := range f.d.current.Load().Instances() {
		if st := in.Status(); st.State != StateRunning {
			down = append(down, st.Name+" ("+st.State+")")
		}
	}
	if len(down) > 0 {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+strings.Join(down, ", ")+"\n")
		return
	}
	writeText(w, http.StatusOK, "ready\n")
}

func (f *frontDoor) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, f.d.Status())
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// newHTTPServer is the front door's server with its size and time limits.
// A request's headers must arrive within ReadHeaderTimeout of its first
// byte; no endpoint reads a body (see routes); a kept-alive connection
// idle between requests is bound by IdleTimeout. There is no ReadTimeout
// or WriteTimeout: net/http sets each on every request, which cost about
// 1 µs of CPU per uncached login (measured), and a client that stops
// reading its answers is bounded per connection instead (limitUnread, in
// trackingListener).
func newHTTPServer(h http.Handler, maxHeaderBytes int, logger hclog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		MaxHeaderBytes:    maxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// OPTIONS * goes to the handler too, which refuses it (400) without
		// waiting for a body: net/http's own answer reads up to 4 KiB of a
		// declared body with no deadline (found by review).
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     logger.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
		BaseContext:                  func(net.Listener) context.Context { return context.Background() },
	}
}
