package adequacy

import "github.com/geoaccess/geoaccess/geo"

// IndexOf exposes a network's index of a discipline to tests.
func IndexOf(n *Network, d Discipline) *geo.Index { return n.disc[d].ix }
