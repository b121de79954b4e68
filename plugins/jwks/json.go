package jwks

import (
	"encoding/json"
	"errors"
	"fmt"
)

// DecodeObject decodes a JSON object into its members, refusing nesting
// deeper than maxDepth and duplicate member names at its top level (Java's
// parsers refuse them: Jackson with strict duplicate detection, Gson's map
// adapter; two parsers must never disagree on which "alg" or "keys"
// counts). Member names match exactly, unlike encoding/json's struct
// fields, which ignore case.
func DecodeObject(b []byte, maxDepth int) (map[string]json.RawMessage, error) {
	members, _, err := ScanJSON(b, maxDepth)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	if len(m) != members {
		return nil, errors.New("duplicate member names")
	}
	return m, nil
}

// ScanJSON checks the nesting depth of b in one pass and counts the members
// of the outermost object (the colons at depth 1) and of all objects (every
// colon outside strings). Invalid JSON is left to the decoder.
func ScanJSON(b []byte, maxDepth int) (members, all int, err error) {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > maxDepth {
				return 0, 0, fmt.Errorf("JSON nested deeper than %d levels", maxDepth)
			}
		case '}', ']':
			depth--
		case ':':
			all++
			if depth == 1 {
				members++
			}
		}
	}
	return members, all, nil
}
