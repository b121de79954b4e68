package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Config reads an instance's `config:` map the way OpenSearch reads its
// Settings: nested maps are flattened to dotted keys (`a: {b: 1}` is `a.b: 1`),
// a scalar where a list is expected is split on commas, and null is absent.
//
// Every getter records what went wrong with Problem instead of failing, so a
// factory reports all problems at once. Keys never read are reported as
// unknown by Problems, which catches typos: each with the key the factory
// asked for that is closest to it, or with the list of those keys.
type Config struct {
	values   map[string]any
	used     map[string]bool
	asked    map[string]bool // every key the factory asked for, set or not
	problems []Problem
	warnings []Problem
	floats   map[string]string // key -> the JSON text of a number written with a fraction or an exponent
	dir      string
	files    []string
	logger   hclog.Logger
}

// Problem is one thing wrong with a config, named by its key path.
type Problem struct {
	Key     string
	Message string
}

func (p Problem) Error() string { return p.Key + ": " + p.Message }

// NewConfig flattens raw (a JSON object) into a Config. dir is the directory
// relative paths resolve against. Numbers become float64, except whole
// numbers beyond ±2^53, which a float64 would round: those keep their exact
// decimal text, as a string, as OpenSearch keeps their every digit
// (WholeNumber). A number written with a decimal point or an exponent
// (7.0, 1e3) is a float, which Int refuses as OpenSearch's getAsInt does;
// realmd writes a config.yml float so, as Java writes it (7.0 is "7.0").
func NewConfig(raw []byte, dir string, logger hclog.Logger) (*Config, error) {
	var m map[string]any
	floats := map[string]string{}
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		err := dec.Decode(&m)
		if err == nil {
			if _, end := dec.Token(); end != io.EOF {
				err = errors.New("data after the config object")
			}
		}
		if err == nil {
			floatTexts("", m, floats)
			err = fromJSONNumbers(m)
		}
		if err != nil {
			return nil, fmt.Errorf("decoding config: %w", err)
		}
	}
	c := NewConfigMap(m, dir, logger)
	c.floats = floats
	return c, nil
}

// floatTexts records in out, under its flattened key, the text of every
// number below m (a decoded JSON object, not in a list) written with a
// decimal point or an exponent.
func floatTexts(prefix string, m map[string]any, out map[string]string) {
	for k, v := range m {
		switch v := v.(type) {
		case map[string]any:
			floatTexts(prefix+k+".", v, out)
		case json.Number:
			if s := v.String(); strings.ContainsAny(s, ".eE") {
				out[prefix+k] = s
			}
		}
	}
}

// maxExactInt is 2^53: every whole number of at most this magnitude is
// exact as a float64, and no larger one is guaranteed to be.
const maxExactInt = 1 << 53

// WholeNumber returns the value a config holds for a whole number written
// in decimal (an optional sign, then digits, such as "-42"): a float64 when
// its magnitude is at most 2^53, and otherwise decimal itself, unchanged. A
// float64 would round a larger number (12345678901234567 would become
// 12345678901234568), where OpenSearch keeps every digit (Jackson reads a
// long or a BigInteger), so such a number reaches a realm as a string.
// realmd's config loader and NewConfig both convert whole numbers with it.
func WholeNumber(decimal string) any {
	if i, err := strconv.ParseInt(decimal, 10, 64); err == nil && -maxExactInt <= i && i <= maxExactInt {
		f, _ := strconv.ParseFloat(decimal, 64) // exact; "-0" stays -0
		return f
	}
	return decimal
}

// fromJSONNumbers replaces, in place, every json.Number below v by a
// float64, or by its text when it is a whole number beyond ±2^53
// (WholeNumber).
func fromJSONNumbers(v any) error {
	convert := func(e any) (any, error) {
		n, ok := e.(json.Number)
		if !ok {
			return e, fromJSONNumbers(e)
		}
		s := n.String()
		if !strings.ContainsAny(s, ".eE") {
			return WholeNumber(s), nil
		}
		f, err := n.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", s)
		}
		return f, nil
	}
	var err error
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if v[k], err = convert(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if v[i], err = convert(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewConfigMap is NewConfig for a decoded map.
func NewConfigMap(m map[string]any, dir string, logger hclog.Logger) *Config {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	c := &Config{values: map[string]any{}, used: map[string]bool{}, asked: map[string]bool{}, dir: dir, logger: logger}
	c.flatten(m)
	return c
}

// flatten copies m into c.values under dotted keys. Keys are visited in
// sorted order and a setting written twice (`a.b: 1` beside `a: {b: 2}`)
// is a problem: OpenSearch's Settings refuses duplicate keys, and keeping
// either value would depend on Go's random map order, so the same config
// would pass on one run and fail on the next.
func (c *Config) flatten(m map[string]any) {
	c.flattenUnder(nil, m, map[string][]string{})
}

// flattenUnder flattens m, found under the written keys parents. written
// maps each dotted key seen so far to the keys that spelled it.
func (c *Config) flattenUnder(parents []string, m map[string]any, written map[string][]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		spelled := append(slices.Clip(parents), k)
		if sub, ok := m[k].(map[string]any); ok {
			c.flattenUnder(spelled, sub, written)
			continue
		}
		key := strings.Join(spelled, ".")
		if first, dup := written[key]; dup {
			c.Problem(key, "set both %s and %s; keep one", spelling(first), spelling(spelled))
			continue
		}
		written[key] = spelled
		if m[k] != nil {
			c.values[key] = m[k]
		}
	}
}

// spelling says how a dotted key was written, for a duplicate-key problem:
// "as `a.b`" for one key, "nested under `a`" for `a: {b: ...}`.
func spelling(keys []string) string {
	if len(keys) == 1 {
		return "as `" + keys[0] + "`"
	}
	return "nested under `" + strings.Join(keys[:len(keys)-1], ": ") + "`"
}

// Logger is the plugin's logger, named after the instance.
func (c *Config) Logger() hclog.Logger { return c.logger }

// Dir is the config directory.
func (c *Config) Dir() string { return c.dir }

// Has reports whether key is set, to a value or as a block of keys below
// it: for `tls: {ca: x}`, Has("tls") is true. It reads nothing.
func (c *Config) Has(key string) bool {
	c.asked[key] = true
	if _, ok := c.values[key]; ok {
		return true
	}
	for k := range c.values {
		if strings.HasPrefix(k, key+".") {
			return true
		}
	}
	return false
}

// Raw returns the value of key as decoded from JSON, and marks it read. A
// block (`opts: {a: 1, b.c: 2}`, or the same written with dotted keys) is
// returned as the nested map it flattens from ({a: 1, b: {c: 2}}), and
// every key in it is marked read. A key set both to a value and as a
// block (`a: 1` beside `a.b: 2`) gives the value.
func (c *Config) Raw(key string) (any, bool) {
	c.asked[key] = true
	if v, ok := c.values[key]; ok {
		c.used[key] = true
		return v, true
	}
	m := c.block(key)
	if m == nil {
		return nil, false
	}
	return m, true
}

// block rebuilds the nested map of the keys below prefix and marks them
// read; nil when there are none. A key below one that has a value of its
// own (`a.b.c` beside `a.b: 1`, both under prefix a) has no place in the
// map: it is a problem.
func (c *Config) block(prefix string) map[string]any {
	var below []string // sorted: a key before those below it, problems in key order
	for k := range c.values {
		if strings.HasPrefix(k, prefix+".") {
			below = append(below, k)
		}
	}
	if len(below) == 0 {
		return nil
	}
	slices.Sort(below)
	m := map[string]any{}
	for _, k := range below {
		rest := k[len(prefix)+1:]
		c.used[k] = true
		names := strings.Split(rest, ".")
		at := m
		for i, name := range names[:len(names)-1] {
			sub, ok := at[name].(map[string]any)
			if !ok {
				if _, taken := at[name]; taken {
					valued := prefix + "." + strings.Join(names[:i+1], ".")
					c.problemOnce(k, fmt.Sprintf("%s has a value of its own, so %s cannot be read as a block; keep one", valued, prefix))
					at = nil
					break
				}
				sub = map[string]any{}
				at[name] = sub
			}
			at = sub
		}
		if at != nil {
			at[names[len(names)-1]] = c.values[k]
		}
	}
	return m
}

// problemOnce records a problem unless the same one is recorded already:
// a block can be read more than once.
func (c *Config) problemOnce(key, message string) {
	p := Problem{Key: key, Message: message}
	if !slices.Contains(c.problems, p) {
		c.problems = append(c.problems, p)
	}
}

// Decode converts the raw value of key into v (a pointer) through JSON, for
// structured values such as a list of objects or a block, which it reads
// whole (Raw). It reports false, and records
// a problem, when key is missing ("is required") or does not fit v; v is
// then left as it was. For an optional key, ask Has first.
func (c *Config) Decode(key string, v any) bool {
	raw, ok := c.Raw(key)
	if !ok {
		c.Problem(key, "is required")
		return false
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		c.Problem(key, "%v", err)
		return false
	}
	return true
}

// Children returns the sorted distinct names directly below prefix:
// for `users.a.base` and `users.b.search`, Children("users") is [a b].
// It counts as asking for prefix, as Has does: an unknown key's problem
// names prefix among the keys allowed, and a misspelt block (`kyes.a` for
// `keys.a`) is told the key it meant. The keys below prefix still have to
// be read one by one.
func (c *Config) Children(prefix string) []string {
	c.asked[prefix] = true
	seen := map[string]bool{}
	for k := range c.values {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		seen[name] = true
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// String returns key as a string; numbers and booleans are converted.
func (c *Config) String(key, def string) string {
	v, ok := c.Raw(key)
	if !ok {
		return def
	}
	s, ok := ScalarString(v)
	if !ok {
		c.Problem(key, "must be a string, not a %s", kindOf(v))
		return def
	}
	return s
}

// Bool returns key as a boolean; only true and false (or their strings) are accepted.
func (c *Config) Bool(key string, def bool) bool {
	v, ok := c.Raw(key)
	if !ok {
		return def
	}
	switch v := v.(type) {
	case bool:
		return v
	case string:
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
	}
	c.Problem(key, "must be true or false, not %s", describe(v))
	return def
}

// Int returns key as an integer, as OpenSearch's Settings.getAsInt reads
// it: Integer.parseInt on the setting's text. So a whole number must fit a
// Java int (-2147483648 to 2147483647), a decimal string is accepted as it
// is written (an optional sign, then digits: "+007" is 7), and " 7 " is a
// problem that says the value has spaces. A number written with a decimal
// point or an exponent (7.0, 1e3) is a float, whose text ("7.0",
// "1000.0") parseInt refuses, and so is a problem too. Each problem says
// what to write; Int then returns def.
func (c *Config) Int(key string, def int) int {
	n, ok := c.whole(key, 32)
	if !ok {
		return def
	}
	return int(n)
}

// Long is Int for a setting OpenSearch reads with Settings.getAsLong
// (Long.parseLong): a whole number must fit a Java long
// (-9223372036854775808 to 9223372036854775807), and all else is as Int.
func (c *Config) Long(key string, def int64) int64 {
	n, ok := c.whole(key, 64)
	if !ok {
		return def
	}
	return n
}

// whole reads key as Java's parseInt (bits 32) or parseLong (bits 64)
// reads the setting's text, recording a problem for what they refuse. ok
// is false when key is unset or refused.
func (c *Config) whole(key string, bits int) (n int64, ok bool) {
	v, ok := c.Raw(key)
	if !ok {
		return 0, false
	}
	javaType := map[int]string{32: "int", 64: "long"}[bits]
	outOfRange := func(text string) {
		lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
		c.Problem(key, "must be a whole number from %d to %d (a Java %s, as OpenSearch reads it), not %s", lo, hi, javaType, strconv.Quote(text))
	}
	if text, isFloat := c.floats[key]; isFloat {
		f, _ := v.(float64)
		switch {
		case f != math.Trunc(f):
			c.Problem(key, "must be a whole number, not %s", strconv.Quote(text))
		case f < -math.Ldexp(1, bits-1) || f >= math.Ldexp(1, bits-1):
			outOfRange(text)
		default:
			c.Problem(key, "must be a whole number, not %s: written with a decimal point or an exponent, it is a float to OpenSearch, which refuses it here; write %d",
				strconv.Quote(text), int64(f))
		}
		return 0, false
	}
	var text string
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > maxExactInt {
			c.Problem(key, "must be a whole number, not %s", describe(v))
			return 0, false
		}
		text = strconv.FormatInt(int64(v), 10)
	case string:
		text = v
	default:
		c.Problem(key, "must be a whole number, not %s", describe(v))
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, bits)
	switch {
	case err == nil:
		return n, true
	case errors.Is(err, strconv.ErrRange):
		outOfRange(text)
		return 0, false
	}
	if t := strings.TrimSpace(text); t != text {
		if _, err := strconv.ParseInt(t, 10, bits); err == nil {
			c.Problem(key, "must be a whole number, not %s: the value has spaces around it, which OpenSearch refuses; write %s", describe(v), t)
			return 0, false
		}
	}
	c.Problem(key, "must be a whole number, not %s", describe(v))
	return 0, false
}

// List returns key as a list of strings, as OpenSearch's
// Settings.getAsList(key, def) does. A YAML list is taken as is (scalars
// converted to strings, an empty list is empty). A scalar string is split
// on commas by Java's String.split, which drops trailing empty parts ("a,b,"
// is [a b]) but keeps the others ("a,,b" and ",a" keep an empty part), and
// each part is trimmed by Java's String.trim (JavaTrim: "admin\u00a0" keeps
// its U+00A0, and "a, " is [a ""]). A string with no parts, "" or commas
// alone, is no list, and getAsList then gives def; so does List, and when
// def has entries it records a warning, as "" reads like "none" and is not.
// A blank string is one empty part: "  " is [""].
func (c *Config) List(key string, def []string) []string {
	v, ok := c.Raw(key)
	if !ok {
		return def
	}
	switch v := v.(type) {
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := ScalarString(e)
			if !ok {
				c.Problem(fmt.Sprintf("%s[%d]", key, i), "must be a string, not a %s", kindOf(e))
				continue
			}
			out = append(out, s)
		}
		return out
	default:
		s, ok := ScalarString(v)
		if !ok {
			c.Problem(key, "must be a list or a comma-separated string, not a %s", kindOf(v))
			return def
		}
		parts := strings.Split(s, ",")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 {
			if len(def) > 0 {
				c.Warn(key, "%q has no entries, so the default %q applies, as in OpenSearch", s, def)
			}
			return def
		}
		for i := range parts {
			parts[i] = JavaTrim(parts[i])
		}
		return parts
	}
}

// Path returns key as a file path, resolved against the config directory
// when relative. realmd watches every path read this way and restarts the
// instance when the file's content changes.
func (c *Config) Path(key, def string) string {
	p := c.String(key, def)
	if p == "" {
		return p
	}
	if !filepath.IsAbs(p) && c.dir != "" {
		p = filepath.Join(c.dir, p)
	}
	c.WatchFile(p)
	return p
}

// WatchFile tells realmd that the instance depends on the file at path, for
// files whose names do not come from Path.
func (c *Config) WatchFile(path string) {
	c.files = append(c.files, path)
}

// Files lists the files the instance depends on.
func (c *Config) Files() []string { return c.files }

// Ignore marks keys as read without using them: OpenSearch keys that have no
// meaning in realmd and are accepted for compatibility. A key written as a
// block (`x: {y: 1}` for Ignore("x")) is ignored whole, as Raw reads it.
func (c *Config) Ignore(keys ...string) {
	for _, k := range keys {
		c.asked[k] = true
		c.IgnorePrefix(k)
	}
}

// IgnorePrefix marks key prefix and every key below it as read.
func (c *Config) IgnorePrefix(prefix string) {
	for k := range c.values {
		if strings.HasPrefix(k, prefix+".") || k == prefix {
			c.used[k] = true
		}
	}
}

// Problem records a problem with key.
func (c *Config) Problem(key, format string, args ...any) {
	c.problems = append(c.problems, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// Warn records a warning about key ("" for the config as a whole): a
// setting that is likely a mistake but does not stop the instance, such as
// a jwt domain with no key. realmd shows it at the key's file and line:
// `realmd check` prints it, and serve logs it once when it starts the
// instance. Record warnings with Warn rather than logging them: a factory
// runs more than once per instance (see Factory), and a logged warning
// would appear each time, without a line, and never in `realmd check`.
func (c *Config) Warn(key, format string, args ...any) {
	c.warnings = append(c.warnings, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// Warnings returns every recorded warning, sorted by key.
func (c *Config) Warnings() []Problem {
	out := append([]Problem(nil), c.warnings...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Problems returns every recorded problem, plus one for each key never read,
// sorted by key. An unknown key's problem names the key the factory asked
// for that is closest to it (Suggest), or, when none is close, every key
// the factory asked for.
func (c *Config) Problems() []Problem {
	out := append([]Problem(nil), c.problems...)
	var known []string
	for k := range c.values {
		if c.used[k] {
			continue
		}
		if known == nil {
			known = slices.Sorted(maps.Keys(c.asked))
		}
		out = append(out, Problem{Key: k, Message: unknownKey(k, known)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// unknownKey is the message for key, which the factory did not read; known
// are the keys it asked for, sorted.
func unknownKey(key string, known []string) string {
	if s := suggestKey(key, known); s != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q?", key, s)
	}
	if len(known) == 0 {
		return fmt.Sprintf("unknown key %q; this type reads no config keys", key)
	}
	return fmt.Sprintf("unknown key %q; the keys allowed here are: %s", key, strings.Join(known, ", "))
}

// suggestKey returns the known key closest to key, "" when none is close.
// A known key that is key itself or a block key is in (`opts` for
// `opts.a`) is no suggestion. When no whole key is close, key's leading
// segments are matched against the known keys, so that `kyes.a` beside a
// block `keys` read with Children is told `keys.a`.
func suggestKey(key string, known []string) string {
	var candidates []string
	for _, k := range known {
		if k != key && !strings.HasPrefix(key, k+".") {
			candidates = append(candidates, k)
		}
	}
	if s := Suggest(key, candidates); s != "" {
		return s
	}
	for i := len(key) - 1; i > 0; i-- {
		if key[i] != '.' {
			continue
		}
		if s := Suggest(key[:i], candidates); s != "" {
			return s + key[i:]
		}
	}
	return ""
}

// Err returns the problems joined into one error, or nil.
func (c *Config) Err() error {
	ps := c.Problems()
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// ScalarString converts a decoded config value to a string the way
// OpenSearch's Settings does: strings as they are, booleans and numbers in
// their shortest form. ok is false for lists, maps and null.
func ScalarString(v any) (s string, ok bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case map[string]any:
		return "map"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	}
	return fmt.Sprintf("%T", v)
}

func describe(v any) string {
	if s, ok := ScalarString(v); ok {
		return strconv.Quote(s)
	}
	return "a " + kindOf(v)
}
