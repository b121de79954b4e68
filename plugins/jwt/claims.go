package jwt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/realmd/realmd/sdk"
)

// check validates the registered claims at now (dates in whole seconds,
// see numericDate):
//   - iss, sub and jti, when present, must be strings, and aud a string or
//     a list of strings (see registeredTypes);
//   - exp, when present: refused when now - skew > exp (>= with
//     StrictTimeBounds), or when exp in milliseconds overflows an int64
//     (OpenSearch's date is then in the past);
//   - nbf, when present: refused when now + skew < nbf (<= with
//     StrictTimeBounds);
//   - iat, when present: refused when iat > now + skew (issued in the
//     future; OpenSearch does not check iat);
//   - aud must intersect RequiredAudience when that is set (a missing aud
//     fails);
//   - iss must equal RequiredIssuer when that is set.
//
// It returns the expiry (zero without exp).
func (r *ClaimRules) check(claims map[string]any, now time.Time) (time.Time, error) {
	if err := registeredTypes(claims); err != nil {
		return time.Time{}, err
	}
	skew := r.ClockSkew.Seconds()
	t := float64(now.UnixNano()) / 1e9
	exp, hasExp, err := numericDate(claims, "exp")
	if err != nil {
		return time.Time{}, err
	}
	if hasExp && (t-skew > exp || r.StrictTimeBounds && t-skew == exp || beyondMillis(claims["exp"].(json.Number))) {
		// Java computes seconds * 1000 in a long: beyond that, OpenSearch's
		// exp overflows into the past.
		return time.Time{}, reject("expired")
	}
	if nbf, ok, err := numericDate(claims, "nbf"); err != nil {
		return time.Time{}, err
	} else if ok && (t+skew < nbf || r.StrictTimeBounds && t+skew == nbf) {
		// A nbf beyond beyondMillis is refused too, for the far future it
		// names, though OpenSearch's overflow may put it in the past.
		return time.Time{}, reject("not valid yet (nbf)")
	}
	if iat, ok, err := numericDate(claims, "iat"); err != nil {
		return time.Time{}, err
	} else if ok && iat > t+skew {
		return time.Time{}, reject("issued in the future (iat)")
	}
	if len(r.RequiredAudience) > 0 && !intersects(audience(claims["aud"]), r.RequiredAudience) {
		return time.Time{}, reject("audience does not match")
	}
	if r.RequiredIssuer != "" {
		if iss, _ := claims["iss"].(string); iss != r.RequiredIssuer {
			return time.Time{}, reject("issuer does not match")
		}
	}
	if !hasExp {
		return time.Time{}, nil
	}
	return time.Unix(int64(math.Min(exp, 1e15)), 0), nil // far enough, and no overflow
}

// maxMillisSeconds is the largest date in seconds whose milliseconds fit
// an int64 (a Java long): math.MaxInt64 / 1000.
const maxMillisSeconds = math.MaxInt64 / 1000

// beyondMillis reports whether the date n, in seconds, has milliseconds
// that overflow an int64, as OpenSearch computes them: an integer as a
// long, anything else as a double truncated by Number.longValue. An integer
// outside the int64 range counts as beyond.
func beyondMillis(n json.Number) bool {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i > maxMillisSeconds
	}
	if strings.ContainsAny(n.String(), ".eE") {
		f, _ := n.Float64()
		// Here float64 holds only even integers and maxMillisSeconds is
		// odd: its successor is exact.
		return math.Trunc(f) >= maxMillisSeconds+1
	}
	return !strings.HasPrefix(n.String(), "-")
}

// registeredTypes refuses registered claims of the wrong JSON type, as
// OpenSearch's parsers do (jjwt's RequiredTypeConverter, Nimbus's getString
// and getStringList): iss, sub and jti must be strings, aud a string or a
// list of strings. null counts as absent, as does a null aud element. The
// rule holds for these names whatever subject_key and roles_key say. (With
// NumericSubject, a numeric sub is already a string here.)
func registeredTypes(claims map[string]any) error {
	for _, name := range [...]string{"iss", "sub", "jti"} {
		if v := claims[name]; v != nil {
			if _, ok := v.(string); !ok {
				return reject("%s is not a string", name)
			}
		}
	}
	switch aud := claims["aud"].(type) {
	case nil, string:
	case []any:
		for _, e := range aud {
			if _, ok := e.(string); !ok && e != nil {
				return reject("aud is not a list of strings")
			}
		}
	default:
		return reject("aud is neither a string nor a list of strings")
	}
	return nil
}

// numericDate reads a NumericDate claim: a JSON number of seconds, its
// fraction dropped (truncated toward zero), as both of OpenSearch's
// libraries read whole seconds with Number.longValue (jjwt's
// JwtDateConverter in static mode, Nimbus's JSONObjectUtils.getLong in
// JWKS mode).
func numericDate(claims map[string]any, name string) (float64, bool, error) {
	v, ok := claims[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false, reject("%s is not a number", name)
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false, reject("%s is not a valid date", name)
	}
	return math.Trunc(f), true, nil
}

// audience reads aud: a string or a list of strings.
func audience(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// subject reads the user name at SubjectKey, trimmed as Java trims unless
// KeepSpaces is set, or the sub claim as it is. It returns "" when the path
// is missing, crosses a non-object, or ends in null or an empty value.
//
// OpenSearch trims only a subject_key's value: the default sub is taken as
// the token spells it, in both modes. Found by review: realmd trimmed it,
// so a token for " admin" got admin's role mappings here and none in
// OpenSearch. Such a name now reaches the pipeline as it is, which refuses
// it because a header cannot carry it.
func (r *ClaimRules) subject(claims map[string]any) string {
	if len(r.SubjectKey) == 0 {
		sub, _ := claims["sub"].(string) // registeredTypes: a string or absent
		return sub
	}
	v, ok := walk(claims, r.SubjectKey)
	if !ok {
		return ""
	}
	if r.KeepSpaces {
		return text(v)
	}
	return sdk.JavaTrim(text(v))
}

// roles reads the backend roles at RolesKey: a string is split on commas;
// a list is taken element by element (null elements skipped); anything else
// is one role. Every role is trimmed (unless KeepSpaces); empty ones are dropped and duplicates
// removed, keeping the first.
func (r *ClaimRules) roles(claims map[string]any) []string {
	if len(r.RolesKey) == 0 {
		return nil
	}
	v, ok := walk(claims, r.RolesKey)
	if !ok {
		return nil
	}
	var parts []string
	switch x := v.(type) {
	case string:
		parts = strings.Split(x, ",")
	case []any:
		for _, e := range x {
			if e != nil {
				parts = append(parts, text(e))
			}
		}
	default:
		parts = []string{text(x)}
	}
	seen := make(map[string]bool, len(parts))
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if !r.KeepSpaces {
			p = sdk.JavaTrim(p)
		}
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

// walk follows path through nested objects. A missing member, a non-object
// on the way or a null leaf is "not found".
func walk(claims map[string]any, path []string) (any, bool) {
	var node any = claims
	for _, name := range path {
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = m[name]; !ok {
			return nil, false
		}
	}
	return node, node != nil
}

// numericSubject replaces, when NumericSubject is set, a sub that is a
// JSON number by the string Nimbus makes of it, so that the user name,
// the type check and attr.jwt.sub all see that string.
func (r *ClaimRules) numericSubject(claims map[string]any) {
	if n, ok := claims["sub"].(json.Number); ok && r.NumericSubject {
		claims["sub"] = gsonNumber(n)
	}
}

// omitEmpty deletes, when OmitEmptyClaims is set, the top-level claims that
// OpenSearch's static mode never sees: jjwt's ParameterMap drops null
// claims, and registered claims that are empty (see emptyRegistered) before
// it converts them. So "exp":"" is no exp, and "aud":{} no audience.
func (r *ClaimRules) omitEmpty(claims map[string]any) {
	if !r.OmitEmptyClaims {
		return
	}
	for k, v := range claims {
		if v == nil || emptyRegistered(k, v) {
			delete(claims, k)
		}
	}
}

// attributes turns every claim into attr.jwt.<claim>: nested objects are
// flattened with dots, lists become JSON text, null is "null", numbers keep
// the token's spelling. A string aud becomes a one-element JSON list, as
// OpenSearch keeps aud as a list in both modes (jjwt's Set, Nimbus's List).
//
// Two claims may flatten to one name ({"a.b": 1, "a": {"b": 2}}). OpenSearch
// adds them in document order, so the later one wins; a Go map has no
// order, so then the payload (claims' JSON) is walked in its order instead.
func (r *ClaimRules) attributes(claims map[string]any, payload []byte) map[string]string {
	out := make(map[string]string, len(claims))
	collided := false
	for k, v := range claims {
		collided = flatten("attr.jwt."+k, r.attributeValue(k, v), out) || collided
	}
	if !collided {
		return out
	}
	clear(out)
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	inOrder(dec, func(k string, raw json.RawMessage) {
		if v, ok := claims[k]; ok { // omitEmpty may have dropped it
			flattenInOrder("attr.jwt."+k, r.attributeValue(k, v), raw, out)
		}
	})
	return out
}

// attributeValue is claim k's value as attributes renders it.
func (r *ClaimRules) attributeValue(k string, v any) any {
	if s, ok := v.(string); ok && k == "aud" {
		return []any{s}
	}
	if n, ok := v.(json.Number); ok && r.WholeSecondDates && (k == "exp" || k == "nbf" || k == "iat") {
		return jjwtSeconds(n)
	}
	return v
}

// flatten adds v's attributes under prefix and reports whether one of them
// was already there.
func flatten(prefix string, v any, out map[string]string) (collided bool) {
	if m, ok := v.(map[string]any); ok {
		for k, sub := range m {
			collided = flatten(prefix+"."+k, sub, out) || collided
		}
		return collided
	}
	_, collided = out[prefix]
	out[prefix] = text(v)
	return collided
}

// flattenInOrder is flatten with the members of each object taken in the
// order raw (v's JSON) gives them; a later attribute replaces an earlier one.
func flattenInOrder(prefix string, v any, raw json.RawMessage, out map[string]string) {
	m, ok := v.(map[string]any)
	if !ok {
		out[prefix] = text(v)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	inOrder(dec, func(k string, sub json.RawMessage) {
		flattenInOrder(prefix+"."+k, m[k], sub, out)
	})
}

// inOrder calls member for each member of the JSON object dec reads, in
// document order. The object has been decoded once already, so it is
// valid and its member names are distinct.
func inOrder(dec *json.Decoder, member func(name string, raw json.RawMessage)) {
	if _, err := dec.Token(); err != nil { // {
		return
	}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		var raw json.RawMessage
		if err != nil || !ok || dec.Decode(&raw) != nil {
			return
		}
		member(name, raw)
	}
}

// emptyRegistered reports whether v is a registered claim that jjwt drops
// as empty (see jjwtEmpty).
func emptyRegistered(name string, v any) bool {
	switch name {
	case "iss", "sub", "aud", "exp", "nbf", "iat", "jti":
		return jjwtEmpty(v)
	}
	return false
}

// jjwtEmpty reports whether v is a value jjwt's ParameterMap drops as empty
// (Objects.isEmpty): null, a blank string, an empty list or an empty object.
func jjwtEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return javaBlank(x)
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// text renders a claim value like Java's String.valueOf, with JSON text for
// lists and objects.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return fmt.Sprint(x)
		}
		return strings.TrimSuffix(buf.String(), "\n")
	}
}
