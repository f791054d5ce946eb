package main

import "testing"

func TestUnixDeviceNumbersSplitAsGlibcDoes(t *testing.T) {
	for _, tc := range []struct{ dev, major, minor uint64 }{
		{0xfe00, 254, 0},                    // virtio's vda
		{0x10301, 259, 1},                   // an NVMe partition
		{0x803, 8, 3},                       // sda3
		{0x1000_5672_3489, 0x1234, 0x56789}, // makedev(0x1234, 0x56789): both past their first 12 and 8 bits
	} {
		if got, want := [2]uint64{unixMajor(tc.dev), unixMinor(tc.dev)}, [2]uint64{tc.major, tc.minor}; got != want {
			t.Errorf("device %#x splits into %d:%d, want %d:%d", tc.dev, got[0], got[1], want[0], want[1])
		}
	}
}
