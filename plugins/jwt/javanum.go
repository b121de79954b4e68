package jwt

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
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
	return javaDouble(f)
}

// javaDouble is Java's Double.toString (JDK 19 and later, which
// OpenSearch 3 runs on): the shortest decimal that reads back as f, in
// plain notation with at least one fraction digit when 1e-3 <= |f| < 1e7
// ("100.0", "0.001"), else as d.dddE±n ("1.0E21", "1.0E-4").
//
// Java picks among two-digit decimals too when the shortest has one
// digit, which changes the result for a few subnormal numbers only
// (Double.MIN_VALUE is "4.9E-324" there, "5.0E-324" here).
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0 && math.Signbit(f):
		return "-0.0"
	case f == 0:
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-05
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
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
