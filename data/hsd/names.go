package hsd

import (
	"strings"
	"unicode"
)

// normName reduces a county name to a join key, so that the spellings of
// the CMS file and of the Census geography compare equal:
//
//   - case and accents: "Doña Ana" = "Dona Ana", "Mayagüez" = "Mayaguez";
//   - punctuation, apostrophes and spaces: "St. Mary's" = "St Marys",
//     "DeKalb" = "De Kalb", "LaSalle" = "La Salle", "Sa'ole" = "Saole";
//   - "Saint"/"Sainte" = "St."/"Ste.";
//   - parentheticals: "Kusilvak (formerly Wade Hampton)" = "Kusilvak".
//
// Dropping spaces joins words ("dekalb"); within a state no two counties
// differ only by spacing, which the resolution test checks.
func normName(s string) string {
	s = dropParentheticals(s)
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			words = append(words, w.String())
			w.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case isApostrophe(r): // inside a word: "O'Brien", "Ma'oputasi"
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteRune(foldAccent(r))
		default:
			flush()
		}
	}
	flush()
	for i, word := range words {
		switch word {
		case "saint":
			words[i] = "st"
		case "sainte":
			words[i] = "ste"
		}
	}
	return strings.Join(words, "")
}

// dropParentheticals removes "(…)" groups; an unclosed "(" drops the rest.
func dropParentheticals(s string) string {
	for {
		i := strings.IndexByte(s, '(')
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return s[:i]
		}
		s = s[:i] + " " + s[i+j+1:]
	}
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʻ', 'ʼ', '`', '´':
		return true
	}
	return false
}

// accentFold maps the accented lower-case letters of U.S. county names
// (Spanish in New Mexico and Puerto Rico, Chamorro and Samoan in the
// Pacific territories, French in Louisiana) to their base letters.
var accentFold = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ā': 'a',
	'ç': 'c',
	'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ē': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ī': 'i',
	'ñ': 'n',
	'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o', 'ō': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ū': 'u',
	'ý': 'y', 'ÿ': 'y',
}

func foldAccent(r rune) rune {
	if b, ok := accentFold[r]; ok {
		return b
	}
	return r
}
