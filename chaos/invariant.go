package chaos

import (
	"fmt"

	"github.com/accrual/accrual/engine"
)

// CheckInvariant checks a member view's balance identity:
// available + pending + held = earned − redeemed − expired.
func CheckInvariant(v engine.MemberView) error {
	if l, r := v.Available+v.Pending+v.Held, v.Earned-v.Redeemed-v.Expired; l != r {
		return fmt.Errorf("member %s: available %d + pending %d + held %d = %d, earned %d − redeemed %d − expired %d = %d",
			v.Member, v.Available, v.Pending, v.Held, l, v.Earned, v.Redeemed, v.Expired, r)
	}
	return nil
}
