package jwt

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/realmd/realmd/sdk"
)

// gsonNumber renders the JSON number n as OpenSearch's JWKS mode does:
// Nimbus reads numbers with Gson's LONG_OR_DOUBLE policy (a Long when the
// literal has no '.' and fits one, else a Double) and String.valueOf
// prints them. So 123 is "123", -0 is "0", 1.0 is "1.0", 1e2 is "100.0"
// and 12345678901234567890 is "1.2345678901234567E19".
func gsonNumber(n json.Number) string {
	s := n.String()
	if !strings.Contains(s, ".") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // ±Inf beyond the range, as Double.valueOf
	return sdk.JavaDouble(f)
}

// jjwtSeconds renders the date claim n (exp, nbf or iat) as OpenSearch's
// static mode prints it: jjwt keeps a date as Date(longValue() * 1000) and
// its canonical value, which the attributes show, is getTime() / 1000. So
// a fraction is dropped (toward zero), an exponent is spelled out, and
// milliseconds beyond a long wrap as Java's do (Go's int64 product wraps
// the same way).
func jjwtSeconds(n json.Number) string {
	return strconv.FormatInt(jacksonLong(n)*1000/1000, 10)
}

// jacksonLong is Number.longValue() of the number Jackson reads from n: an
// integer literal is an Integer, Long or BigInteger (whose longValue keeps
// the low 64 bits), anything else a Double (whose cast saturates, NaN 0).
func jacksonLong(n json.Number) int64 {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if b, ok := new(big.Int).SetString(s, 10); ok {
			// BigInteger.longValue: the low 64 bits of two's complement,
			// which big.Int's And uses for negative numbers.
			return int64(b.And(b, new(big.Int).SetUint64(math.MaxUint64)).Uint64())
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64: // 2^63 as a float64
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
