package importer

import (
	"fmt"

	"councilgraph/store"
)

// checkFigures checks what an observation publishes beside its value: both
// confidence limits or neither, around the value; a count no larger than a
// positive denominator.
func checkFigures(c *checker, v *store.Observation) {
	switch lo, hi := v.LowerCI95, v.UpperCI95; {
	case (lo == nil) != (hi == nil):
		c.problem("lowerCI95", "must be given with upperCI95, or neither given")
	case lo != nil && !(*lo <= v.Value && v.Value <= *hi):
		c.problem("lowerCI95", fmt.Sprintf("the interval %g to %g (with upperCI95) must hold the value %g", *lo, *hi, v.Value))
	}
	switch n, d := v.Count, v.Denominator; {
	case (n == nil) != (d == nil):
		c.problem("count", "must be given with denominator, or neither given")
	case d != nil && *d <= 0:
		c.problem("denominator", fmt.Sprintf("must be positive, got %g", *d))
	case n != nil && (*n < 0 || *n > *d):
		c.problem("count", fmt.Sprintf("must be between 0 and the denominator %g, got %g", *d, *n))
	}
}
