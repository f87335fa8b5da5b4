package server

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/geoaccess/geoaccess/proto/geoaccess/v1"
)

func TestCount32(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want int32
	}{
		{0, 0},
		{1, 1},
		{100_000, 100_000},
		{math.MaxInt32, math.MaxInt32},
		{math.MaxInt32 + 1, math.MaxInt32},
		{math.MaxInt64, math.MaxInt32},
		{-1, 0},
	} {
		if got := count32(tc.in); got != tc.want {
			t.Errorf("count32(%d) = %d, want %d", tc.in, got, tc.want)
		}
		if tc.in >= math.MinInt && tc.in <= math.MaxInt {
			if got := count32(int(tc.in)); got != tc.want {
				t.Errorf("count32(int %d) = %d, want %d", tc.in, got, tc.want)
			}
		}
	}
}

// The counts changed from int64 to int32 in the proto. For every value
// the server sends (0 to 2^31-1) the encoding is the same varint, so a
// client generated from the int64 proto reads the int32 answers unchanged
// and the other way round; proto3 JSON writes them as numbers now.
func TestCountsWireCompatibleWithInt64(t *testing.T) {
	for _, n := range []int64{0, 1, 127, 128, 100_000, math.MaxInt32} {
		// What a server built from the int64 proto sent for
		// GapSummary.members_evaluated (field 5).
		old := protowire.AppendTag(nil, 5, protowire.VarintType)
		old = protowire.AppendVarint(old, uint64(n))
		var s pb.GapSummary
		if err := proto.Unmarshal(old, &s); err != nil {
			t.Fatal(err)
		}
		if int64(s.MembersEvaluated) != n {
			t.Errorf("int64 encoding of %d read as %d", n, s.MembersEvaluated)
		}
		now, err := proto.Marshal(&pb.GapSummary{MembersEvaluated: int32(n)})
		if err != nil {
			t.Fatal(err)
		}
		if n != 0 && string(now) != string(old) { // proto3 leaves 0 out
			t.Errorf("%d: int32 encoding %x, int64 encoding %x", n, now, old)
		}
	}
	js, err := protojson.Marshal(&pb.DisciplineCount{Participating: 42, TelehealthOnly: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(js), " ", ""); got != `{"participating":42,"telehealthOnly":7}` {
		t.Errorf("proto3 JSON %s: counts should be numbers", js)
	}
}
