package server

import "math"

// count32 converts a count to the API's int32. Every count the API
// carries is bounded far below 2^31 (request limits, roster and report
// sizes), so the clamp never applies in practice; it keeps a count from
// wrapping to a negative number should a bound ever be lifted.
func count32[T ~int | ~int64](n T) int32 {
	switch {
	case int64(n) > math.MaxInt32:
		return math.MaxInt32
	case int64(n) < 0:
		return 0
	}
	return int32(n)
}
