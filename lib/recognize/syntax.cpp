/*
 * syntax.cpp - US plate formats as a prior on candidate strings.
 *
 * '#' is a digit, '@' a letter.  The glyph classifier folds O into 0:
 * most US plates print them alike, so a '0' matches either and is always
 * printed as '0', the form plate records use (184 of the 191 O/0 in the
 * development ground truth, vanity plates included) and the one alpr-matchd's
 * OCR-equivalence matching folds both to anyway.
 */
#include <cmath>

#include "internal.hpp"

namespace rec {

struct format {
	const char *pat;
	float bonus;		/* log-domain reward */
};

/* California's current format first; then the common serial formats. */
static const format FORMATS[] = {
	{ "#@@@###", 1.2f },
	{ "@@@####", 1.0f },
	{ "@@@###", 0.9f },
	{ "###@@@", 0.9f },
	{ "#@@####", 0.6f },
	{ "@@#####", 0.6f },
	{ "##@@###", 0.6f },
	{ "###@###", 0.6f },
	{ "@@@@###", 0.6f },
	{ "####@@", 0.6f },
	{ "@@####", 0.6f },
	{ "@@@@##", 0.5f },
	{ "###@@", 0.5f },
	{ "@#####", 0.5f },
	{ "##@###", 0.5f },
	{ "###@##", 0.4f },
	{ "######", 0.5f },
	{ "#####", 0.5f },
	{ "@####", 0.4f },
	{ "@@###", 0.4f },
	{ "#@#####", 0.4f },
	{ "###@@@#", 0.3f },
};

static bool
matches(const std::string &t, const char *pat)
{
	size_t n = t.size();

	for (size_t i = 0; i < n; i++) {
		char c = t[i], p = pat[i];

		if (p == '\0')
			return false;
		if (c == '0')
			continue;
		if (p == '#' && !(c >= '0' && c <= '9'))
			return false;
		if (p == '@' && !(c >= 'A' && c <= 'Z'))
			return false;
	}
	return pat[n] == '\0';
}

float
syntax_bonus(const std::string &text)
{
	size_t n = text.size();

	for (const format &f : FORMATS)
		if (matches(text, f.pat))
			return f.bonus;
	/* vanity plates */
	if (n < 2 || n > 8)
		return -3.0f;
	return 0.0f;
}

}

/*
 * For C (alpr-ocrd's early reads): 1 if text has one of the serial formats
 * above, 0 for anything else (vanity plates included).
 */
extern "C" int
rec_syntax_known(const char *text)
{
	if (text == NULL)
		return 0;
	for (const rec::format &f : rec::FORMATS)
		if (rec::matches(text, f.pat))
			return 1;
	return 0;
}
