/*
 * alert-say: prints the announcement alpr-alertd would speak for a hit,
 * espeak-ng's phonemes for it, and writes the audio (tone + speech) as a
 * WAV.  Runs in tests only; links alertd's audio code itself.
 *
 *   alert-say PLATE STATE CATEGORY PRIORITY apco|nato OUT.wav
 */
#include "config.h"

#include <espeak-ng/speak_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemons/alert/alertd.h"

/* audio.c's links to the rest of the daemon, unused by what this tool calls. */
const struct alpr_conf *
alertd_conf(const struct alertd *a)
{
	return NULL;
}

struct hit *
hits_find(struct hits *h, int64_t id)
{
	return NULL;
}

int
main(int argc, char **argv)
{
	const void *p;
	const char *ph;
	int16_t *samples;
	size_t n;
	json_t *hit;
	char *text;
	int rate, r;

	if (argc != 7) {
		fprintf(stderr, "usage: alert-say PLATE STATE CATEGORY PRIORITY apco|nato OUT.wav\n");
		return 2;
	}
	hit = json_pack("{s:{s:s, s:s}, s:{s:s, s:i}}", "read", "plate", argv[1], "state", argv[2],
	    "entry", "category", argv[3], "priority", atoi(argv[4]));
	text = announce_text(hit, strcmp(argv[5], "nato") == 0 ? CONF_ALPHABET_NATO : CONF_ALPHABET_APCO);
	if (text == NULL)
		return 1;
	printf("text: %s\n", text);
	if ((r = audio_render(text, atoi(argv[4]), 100, &samples, &n, &rate)) < 0) {
		fprintf(stderr, "alert-say: render: %s\n", strerror(-r));
		return 1;
	}
	/* What the synthesiser makes of the text, as phoneme mnemonics. */
	printf("phonemes:");
	p = text;
	while (p != NULL && (ph = espeak_TextToPhonemes(&p, espeakCHARS_UTF8, 0)) != NULL)
		printf(" %s", ph);
	printf("\nsamples: %zu rate: %d seconds: %.2f\n", n, rate, (double)n / rate);
	if ((r = audio_write_wav(argv[6], samples, n, rate)) < 0) {
		fprintf(stderr, "alert-say: %s: %s\n", argv[6], strerror(-r));
		return 1;
	}
	free(samples);
	free(text);
	json_decref(hit);
	return 0;
}
