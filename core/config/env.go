package config

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// The reference forms OpenSearch substitutes (SecurityUtils.replaceEnvVars):
// a name and an optional ":-default", both from the same character set.
const envRefSuffix = `\.([\w=():\-]+?)(:-[\w=():\-]*)?\}`

var (
	envRE       = regexp.MustCompile(`\$\{env` + envRefSuffix)
	envBase64RE = regexp.MustCompile(`\$\{envbase64` + envRefSuffix)
	envBCRE     = regexp.MustCompile(`\$\{envbc` + envRefSuffix)
	// envNearRE finds what is left of a reference that did not match,
	// for example ${env.MY.VAR} (a dot is not allowed in a name).
	envNearRE = regexp.MustCompile(`\$\{env(base64|bc)?\.[^}]*\}?`)
)

// envIssue is one reference that could not be substituted.
type envIssue struct {
	msg     string
	warning bool
}

// substitute replaces ${envbase64.NAME} (the variable's value, base64
// decoded), then ${env.NAME}, in s, the order OpenSearch applies them in.
// A variable that is unset or empty takes the default after ":-" (which may
// be empty); without a default it is an issue, where OpenSearch would leave
// the reference in place as literal text. ${envbc.NAME} is always an issue.
func substitute(s string, lookup func(string) (string, bool)) (string, []envIssue) {
	if !strings.Contains(s, "${env") {
		return s, nil
	}
	var issues []envIssue
	replace := func(re *regexp.Regexp, form string, decode bool) {
		s = re.ReplaceAllStringFunc(s, func(ref string) string {
			m := re.FindStringSubmatch(ref)
			name, mode := m[1], m[2]
			v, ok := lookup(name)
			if !ok || v == "" {
				if !strings.HasPrefix(mode, ":-") {
					issues = append(issues, envIssue{msg: fmt.Sprintf(
						"environment variable %s is not set (or is empty); set it, or give a default: ${%s.%s:-value}", name, form, name)})
					return ref
				}
				v = mode[2:]
			}
			if !decode {
				return v
			}
			b, err := decodeBase64(v)
			if err != nil {
				issues = append(issues, envIssue{msg: fmt.Sprintf(
					"the value of %s (from ${envbase64.%s}) is not valid base64: %v", name, name, err)})
				return ref
			}
			return string(b)
		})
	}
	replace(envBase64RE, "envbase64", true)
	replace(envRE, "env", false)
	for _, m := range envBCRE.FindAllStringSubmatch(s, -1) {
		issues = append(issues, envIssue{msg: fmt.Sprintf(
			"${envbc.%s} is not supported: OpenSearch hashes the variable with its configured hasher at load time; "+
				"make the hash with `realmd hash` and put it in the file, or in a variable read with ${env.NAME}", m[1])})
	}
	if len(issues) == 0 {
		for _, near := range envNearRE.FindAllString(s, -1) {
			if envBCRE.MatchString(near) {
				continue
			}
			issues = append(issues, envIssue{warning: true, msg: fmt.Sprintf(
				"%q looks like an environment reference but is not one and is kept as text: "+
					"a name and a default may hold only letters, digits and _ = ( ) : -", near)})
		}
	}
	return s, issues
}

// decodeBase64 decodes standard base64, with or without padding, as Java's
// basic decoder does.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// substituteTree applies substitute to every scalar below n, mapping keys
// included (OpenSearch substitutes the whole text of a file), and reports
// each issue at the scalar's line. A key that changed is remembered in
// f.keyText, so that a duplicate it makes can be explained.
func (f *file) substituteTree(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	f.substituteNode(n, func() string { return path }, lookup)
}

// substituteKeys substitutes only the keys of mapping n, the top level of
// a file: roles.yml, of which realmd reads only the role names, so that a
// variable in the content it never reads cannot stop it loading.
func (f *file) substituteKeys(n *yaml.Node, lookup func(string) (string, bool)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f.substituteKey(n.Content[i], func() string { return "" }, lookup)
	}
}

// substituteKey substitutes key node k of the mapping at path and records
// how it was written when that changed it.
func (f *file) substituteKey(k *yaml.Node, path func() string, lookup func(string) (string, bool)) {
	if k.Kind != yaml.ScalarNode {
		return
	}
	written := k.Value
	f.substituteNode(k, func() string { return join(path(), written) }, lookup)
	if k.Value != written {
		if f.keyText == nil {
			f.keyText = map[*yaml.Node]string{}
		}
		f.keyText[k] = written
	}
}

// duplicateKey describes key k, a duplicate of the key first, for a
// message; it says how each was written when substitution changed it.
func (f *file) duplicateKey(k, first *yaml.Node) string {
	here, there := "", ""
	if text, ok := f.keyText[k]; ok {
		here = "written " + text + "; "
	}
	if text, ok := f.keyText[first]; ok {
		there = ", written " + text
	}
	return fmt.Sprintf("%q (%sfirst at line %d%s)", k.Value, here, first.Line, there)
}

// substituteNode builds a node's key path only when it reports a problem:
// built eagerly, the paths of a file nested thousands deep cost memory
// quadratic in its depth.
func (f *file) substituteNode(n *yaml.Node, path func() string, lookup func(string) (string, bool)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			f.substituteNode(c, path, lookup)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			f.substituteKey(k, path, lookup)
			key := k.Value
			f.substituteNode(n.Content[i+1], func() string { return join(path(), key) }, lookup)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			f.substituteNode(c, func() string { return fmt.Sprintf("%s[%d]", path(), i) }, lookup)
		}
	case yaml.ScalarNode:
		v, issues := substitute(n.Value, lookup)
		if v != n.Value {
			if f.substituted == nil {
				f.substituted = map[*yaml.Node]bool{}
			}
			f.substituted[n] = true
		}
		n.Value = v
		for _, is := range issues {
			if is.warning {
				f.warnf(n.Line, path(), "%s", is.msg)
				continue
			}
			f.errorf(n.Line, path(), "%s", is.msg)
			if f.unresolved == nil {
				f.unresolved = map[*yaml.Node]bool{}
			}
			f.unresolved[n] = true
		}
	}
}
