package adequacy_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/geoaccess/geoaccess/adequacy"
)

// The evidence enums print, and marshal, as the words reports and JSON
// have always carried; the zero value prints as nothing.
func TestEvidenceSourcesText(t *testing.T) {
	tests := []struct {
		v interface {
			fmt.Stringer
			MarshalText() ([]byte, error)
		}
		want string
	}{
		{adequacy.RuleSource(0), ""},
		{adequacy.RuleOfficial, "official county standard"},
		{adequacy.RuleFromProfile, "profile base table for the county type"},
		{adequacy.RuleSource(9), "RuleSource(9)"},
		{adequacy.LocationSource(0), ""},
		{adequacy.LocatedByPoint, "point"},
		{adequacy.LocatedByZIP, "zip"},
		{adequacy.LocationSource(7), "LocationSource(7)"},
		{adequacy.CountySource(0), ""},
		{adequacy.CountyGiven, "given"},
		{adequacy.CountyPolygon, "polygon"},
		{adequacy.CountyZIP, "zip"},
		{adequacy.CountyNearest, "nearest"},
		{adequacy.CountySource(200), "CountySource(200)"},
		{adequacy.MinimumSource(0), ""},
		{adequacy.MinimumOfficial, "official"},
		{adequacy.MinimumProfileFixed, "profile fixed"},
		{adequacy.MinimumProfileRatio, "profile ratio × beneficiaries required to cover"},
		{adequacy.MinimumProfileRatioPlan, "profile ratio × plan members in the county (beneficiaries unknown)"},
		{adequacy.MinimumNoRule, "none"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%T(%d).String() = %q, want %q", tc.v, tc.v, got, tc.want)
		}
		b, err := json.Marshal(tc.v)
		if want, _ := json.Marshal(tc.want); err != nil || string(b) != string(want) {
			t.Errorf("%T(%d) JSON = %s (%v), want %s", tc.v, tc.v, b, err, want)
		}
	}
}
