package sdk

import "net/textproto"

func canonicalHeaderKey(s string) string { return textproto.CanonicalMIMEHeaderKey(s) }
