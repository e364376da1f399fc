/*
 * state.cpp - guess the issuing state from the words printed on a plate.
 *
 * Tesseract (stock eng model, through its C API) reads the bands above and
 * below the character row; the text is matched approximately against state
 * names and slogans.  Stock models read ordinary words well, which is
 * exactly this job; plate characters are read by the glyph classifier.
 */
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <opencv2/imgproc.hpp>
/* Tesseract's headers include its own config_auto.h under HAVE_CONFIG_H */
#undef HAVE_CONFIG_H
#include <tesseract/capi.h>

#include "internal.hpp"

/*
 * Debian's libtesseract uses OpenMP; its threads spin at barriers, which
 * on a busy machine multiplies the wall time of a read many times over.
 * The recognizer is single-threaded by design (a worker per core), so ask
 * for one thread in the calling thread (an OpenMP ICV is per thread).
 * Tesseract's network layers name their thread count in the pragma
 * (num_threads), which overrides that; only OMP_THREAD_LIMIT, read when
 * libgomp loads, or no active parallel level at all, keeps them on one
 * thread.  The latter also keeps alpr-ocrd's workers free of threads,
 * which their seccomp filter forbids (daemons/ocr/sandbox.c).
 * Weak: resolved from the libgomp libtesseract pulls in, if any.
 */
extern "C" void omp_set_num_threads(int) __attribute__((weak));
extern "C" void omp_set_max_active_levels(int) __attribute__((weak));

namespace rec {

struct state_key {
	const char *code;
	const char *words;	/* upper case, letters only */
};

/* Names first, then slogans and words that only one state prints. */
static const state_key KEYS[] = {
	{ "al", "ALABAMA" }, { "ak", "ALASKA" }, { "az", "ARIZONA" },
	{ "ar", "ARKANSAS" }, { "ca", "CALIFORNIA" }, { "co", "COLORADO" },
	{ "ct", "CONNECTICUT" }, { "de", "DELAWARE" }, { "fl", "FLORIDA" },
	{ "ga", "GEORGIA" }, { "hi", "HAWAII" }, { "id", "IDAHO" },
	{ "il", "ILLINOIS" }, { "in", "INDIANA" }, { "ia", "IOWA" },
	{ "ks", "KANSAS" }, { "ky", "KENTUCKY" }, { "la", "LOUISIANA" },
	{ "me", "MAINE" }, { "md", "MARYLAND" }, { "ma", "MASSACHUSETTS" },
	{ "mi", "MICHIGAN" }, { "mn", "MINNESOTA" }, { "ms", "MISSISSIPPI" },
	{ "mo", "MISSOURI" }, { "mt", "MONTANA" }, { "ne", "NEBRASKA" },
	{ "nv", "NEVADA" }, { "nh", "NEWHAMPSHIRE" }, { "nj", "NEWJERSEY" },
	{ "nm", "NEWMEXICO" }, { "ny", "NEWYORK" }, { "nc", "NORTHCAROLINA" },
	{ "nd", "NORTHDAKOTA" }, { "oh", "OHIO" }, { "ok", "OKLAHOMA" },
	{ "or", "OREGON" }, { "pa", "PENNSYLVANIA" }, { "ri", "RHODEISLAND" },
	{ "sc", "SOUTHCAROLINA" }, { "sd", "SOUTHDAKOTA" },
	{ "tn", "TENNESSEE" }, { "tx", "TEXAS" }, { "ut", "UTAH" },
	{ "vt", "VERMONT" }, { "va", "VIRGINIA" }, { "wa", "WASHINGTON" },
	{ "wv", "WESTVIRGINIA" }, { "wi", "WISCONSIN" }, { "wy", "WYOMING" },
	{ "dc", "WASHINGTONDC" }, { "dc", "DISTRICTOFCOLUMBIA" },
	{ "dc", "TAXATIONWITHOUT" }, { "dc", "REPRESENTATION" },
	{ "az", "GRANDCANYON" }, { "hi", "ALOHA" }, { "ar", "NATURALSTATE" },
	{ "il", "LANDOFLINCOLN" }, { "fl", "SUNSHINE" },
	{ "ny", "EMPIRESTATE" }, { "nj", "GARDENSTATE" },
	{ "nc", "FIRSTINFLIGHT" }, { "nc", "FIRSTINFREEDOM" },
	{ "nh", "LIVEFREE" }, { "id", "FAMOUSPOTATOES" },
	{ "id", "SCENICIDAHO" }, { "mi", "PUREMICHIGAN" },
	{ "mi", "GREATLAKES" }, { "mo", "SHOWME" }, { "tx", "LONESTAR" },
	{ "pa", "KEYSTONE" }, { "pa", "VISITPA" }, { "wa", "EVERGREEN" },
	{ "ut", "GREATESTSNOW" }, { "ut", "LIFEELEVATED" },
	{ "la", "SPORTSMAN" }, { "al", "HEARTOFDIXIE" },
	{ "al", "SWEETHOME" }, { "ga", "PEACHSTATE" },
	{ "tn", "VOLUNTEER" }, { "ky", "BLUEGRASS" },
	{ "ky", "UNBRIDLED" }, { "ri", "OCEANSTATE" },
	{ "vt", "GREENMOUNTAIN" }, { "mt", "BIGSKY" },
	{ "mt", "TREASURESTATE" }, { "wv", "WILDWONDERFUL" },
	{ "wv", "ALMOSTHEAVEN" }, { "nv", "SILVERSTATE" },
	{ "nv", "HOMEMEANSNEVADA" }, { "nm", "ENCHANTMENT" },
	{ "oh", "BIRTHPLACEOFAVIATION" }, { "ok", "NATIVEAMERICA" },
	{ "ok", "EXPLOREOK" }, { "wi", "DAIRYLAND" },
	{ "mn", "LAKES" }, { "mn", "EXPLOREMINNESOTA" },
	{ "sd", "GREATFACES" }, { "nd", "PEACEGARDEN" },
	{ "nd", "LEGENDARY" }, { "ak", "LASTFRONTIER" },
	{ "ak", "NORTHTOTHEFUTURE" }, { "ct", "CONSTITUTIONSTATE" },
	{ "de", "FIRSTSTATE" }, { "ma", "SPIRITOFAMERICA" },
	{ "me", "VACATIONLAND" }, { "in", "CROSSROADS" },
	{ "va", "FORLOVERS" }, { "md", "CHESAPEAKE" },
	{ "sc", "WHILEIBREATHE" }, { "ms", "MAGNOLIA" },
	{ "ks", "SUNFLOWER" }, { "or", "PACIFICWONDERLAND" },
	{ "co", "COLORFUL" }, { "ne", "CORNHUSKER" },
	{ "dmv", NULL },
};

/* Best approximate occurrence of key in text (Sellers' algorithm). */
static float
similarity(const std::string &text, const char *key)
{
	size_t m = std::strlen(key), n = text.size();
	std::vector<int> col(m + 1), prev(m + 1);
	int best = (int)m;

	for (size_t i = 0; i <= m; i++)
		prev[i] = (int)i;
	for (size_t j = 1; j <= n; j++) {
		col[0] = 0;
		for (size_t i = 1; i <= m; i++) {
			int sub = prev[i - 1] + (key[i - 1] != text[j - 1]);
			col[i] = std::min({ sub, prev[i] + 1, col[i - 1] + 1 });
		}
		best = std::min(best, col[m]);
		prev.swap(col);
	}
	return 1.0f - (float)best / (float)m;
}

state_reader::~state_reader()
{
	if (api) {
		TessBaseAPIEnd((TessBaseAPI *)api);
		TessBaseAPIDelete((TessBaseAPI *)api);
	}
}

int
state_reader::load()
{
	TessBaseAPI *t = TessBaseAPICreate();

	if (!t)
		return -ENOMEM;
	TessBaseAPISetVariable(t, "debug_file", "/dev/null");
	if (TessBaseAPIInit3(t, NULL, "eng") != 0) {
		TessBaseAPIDelete(t);
		return -ENOENT;
	}
	TessBaseAPISetVariable(t, "tessedit_char_whitelist",
			       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ");
	TessBaseAPISetVariable(t, "user_defined_dpi", "300");
	/*
	 * Tesseract 5 rereads low-confidence lines inverted.  That costs time
	 * but, measured on the training half, turning it off loses a quarter
	 * of the state guesses (white-on-colour banners), so it stays on.
	 */
	TessBaseAPISetPageSegMode(t, tesseract::PSM_SINGLE_LINE);
	api = t;
	return 0;
}

std::string
state_reader::ocr(const cv::Mat &band)
{
	TessBaseAPI *t = (TessBaseAPI *)api;
	cv::Mat img = band;
	std::string out;
	char *txt;

	if (band.rows < 8 || band.cols < 16)
		return out;
	/* Tesseract reads best with capitals ~20-30 px tall, and its cost
	 * grows with the pixel count: bring each band to a fixed height */
	{
		double s = (double)band_h / band.rows;
		cv::resize(band, img, cv::Size(), s, s,
			   s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
	}
	if (!img.isContinuous())
		img = img.clone();
	if (omp_set_num_threads)
		omp_set_num_threads(1);
	if (omp_set_max_active_levels)
		omp_set_max_active_levels(0);
	TessBaseAPISetImage(t, img.data, img.cols, img.rows, 1, (int)img.step);
	txt = TessBaseAPIGetUTF8Text(t);
	if (!txt)
		return out;
	for (const char *p = txt; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			out += (char)(*p - 'a' + 'A');
		else if (*p >= 'A' && *p <= 'Z')
			out += *p;
	TessDeleteText(txt);
	TessBaseAPIClear(t);
	return out;
}

/*
 * Character row height (source pixels) below which no state is read.  24,
 * not 20, since the rim separation (segment.cpp) finds more scene rows of
 * 20-24 px: Tesseract ran on 59 of the 111 development scenes and named a
 * state on none of their rows under 27 px.  Chosen on split a: crops lose
 * 1 of 137 states guessed (and 1 of 152 on split b), scenes none; 24-28
 * measured alike.
 */
static const float MIN_ROW_PX = 24.0f;

static const char *
match(const std::string &text, float &conf)
{
	float best = 0, best_sim = 0;
	const char *best_code = NULL;

	if (text.size() < 4)
		return NULL;
	for (const state_key &k : KEYS) {
		if (!k.words)
			break;
		size_t len = std::strlen(k.words);
		float sim = similarity(text, k.words);
		if (len <= 5 ? sim < 0.99f : sim < 0.75f)
			continue;
		float score = sim * std::sqrt((float)len);
		if (score > best) {
			best = score;
			best_sim = sim;
			best_code = k.code;
		}
	}
	conf = 100.0f * best_sim;
	return best_code;
}

bool
state_reader::guess(const cv::Mat &grey, float top, float bottom,
		    std::string &code, float &conf)
{
	std::string text;
	const char *c = NULL;
	int t = (int)std::floor(top - 0.06 * (bottom - top));
	int b = (int)std::ceil(bottom + 0.06 * (bottom - top));

	if (!api)
		return false;
	/*
	 * State names are printed about a third as tall as the characters:
	 * under MIN_ROW_PX of character height they are a few pixels high and
	 * Tesseract names no state (see MIN_ROW_PX), but each try costs
	 * 10-40 ms.
	 */
	if (bottom - top < MIN_ROW_PX)
		return false;
	t = std::max(0, std::min(grey.rows, t));
	b = std::max(0, std::min(grey.rows, b));
	/* most plates print the state above the characters: read the
	 * bottom band only when the top one names none */
	if (t > 4) {
		text = ocr(grey.rowRange(0, t));
		c = match(text, conf);
	}
	if (!c && grey.rows - b > 4) {
		text += ' ';
		text += ocr(grey.rowRange(b, grey.rows));
		c = match(text, conf);
	}
	if (!c)
		return false;
	code = c;
	return true;
}

}
