/*
 * The audible alert of alpr-alertd: a tone by priority, then a spoken
 * announcement synthesised by espeak-ng's library (its words are
 * announce.c's: the plate spelled in the phonetic alphabet deputies use).
 * Played through ALSA on AudioDevice= without blocking the loop (the PCM's
 * poll descriptors sit in sd-event), or written to AudioFile= as a WAV for
 * tests and checks.  Runs in alpr-alertd.
 *
 * Synthesis takes a while (tens of milliseconds), so it runs from an idle
 * event after the page has had its push.
 */
#include "config.h"

#include <alsa/asoundlib.h>
#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/time.h"
#include "daemon/daemon.h"
#include "daemons/alert/alertd.h"

#define PCM_FDS_MAX 8

struct sink {
	int16_t *buf;
	size_t n, cap;
	bool failed;
};

struct audio {
	struct alertd *a;
	bool mute;
	int volume;
	sd_event_source *render;	/* idle: synthesise the pending hit */
	int64_t pending_id;		/* hit to announce, -1: none */
	int64_t cached_id;		/* hit whose samples are in buf */
	int cached_volume;
	int16_t *buf;
	size_t n, pos;
	int rate;
	snd_pcm_t *pcm;
	sd_event_source *pcm_io[PCM_FDS_MAX];
	struct pollfd pfd[PCM_FDS_MAX];
	int n_pfd;
	sd_event_source *close_timer;
	int last_error;			/* logged once until it changes */
	struct sink job;		/* the announcement being synthesised */
	char *job_text, *job_next;	/* its text, and what is left to speak */
	int64_t job_id;
	int job_volume, job_rate;
	unsigned written;		/* WAV files written (AudioFile=) */
};

/* ---- synthesis ---------------------------------------------------------- */


static bool
sink_add(struct sink *s, const int16_t *x, size_t n)
{
	int16_t *nb;
	size_t cap;

	if (s->failed)
		return false;
	if (s->n + n > s->cap) {
		for (cap = s->cap ? s->cap : 65536; cap < s->n + n; cap *= 2)
			;
		if ((nb = realloc(s->buf, cap * sizeof(*nb))) == NULL) {
			s->failed = true;
			return false;
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->n, x, n * sizeof(*x));
	s->n += n;
	return true;
}

static int
synth_cb(short *wav, int n, espeak_EVENT *ev)
{
	struct sink *s = ev != NULL ? ev->user_data : NULL;

	if (s == NULL || wav == NULL || n <= 0)
		return 0;
	return sink_add(s, wav, n) ? 0 : 1;
}

static int espeak_rate;

static int
espeak_up(void)
{
	int r;

	if (espeak_rate > 0)
		return espeak_rate;
	r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, espeakINITIALIZE_DONT_EXIT);
	if (r <= 0)
		return -EIO;
	espeak_SetSynthCallback(synth_cb);
	if (espeak_SetVoiceByName("en-us") != EE_OK)
		(void)espeak_SetVoiceByName("en");
	(void)espeak_SetParameter(espeakRATE, 165, 0);
	espeak_rate = r;
	return r;
}

/* Beeps by priority: 1 a hi-lo siren three times, 2 two beeps, others one. */
static void
tone(struct sink *s, int rate, int priority)
{
	static const double two_pi = 6.283185307179586;
	int16_t chunk[1024];
	int beeps = priority <= 1 ? 6 : priority == 2 ? 2 : 1;
	size_t len = rate * 15 / 100, gap = rate * 6 / 100, i, k;
	int b;

	for (b = 0; b < beeps; b++) {
		double f = priority <= 1 ? (b % 2 ? 960.0 : 1440.0) : 880.0;

		for (i = 0; i < len; i += k) {
			for (k = 0; k < 1024 && i + k < len; k++) {
				/* 5 ms ramps so the beep does not click. */
				double ramp = 1.0, t = (double)(i + k) / rate;
				size_t edge = rate / 200;

				if (i + k < edge)
					ramp = (double)(i + k) / edge;
				else if (len - (i + k) < edge)
					ramp = (double)(len - (i + k)) / edge;
				chunk[k] = (int16_t)(12000.0 * ramp * sin(two_pi * f * t));
			}
			sink_add(s, chunk, k);
		}
		memset(chunk, 0, sizeof(chunk));
		for (i = 0; i < gap; i += k) {
			k = gap - i < 1024 ? gap - i : 1024;
			sink_add(s, chunk, k);
		}
	}
	memset(chunk, 0, sizeof(chunk));
	for (i = 0; i < (size_t)rate / 4; i += k) {
		k = (size_t)rate / 4 - i < 1024 ? (size_t)rate / 4 - i : 1024;
		sink_add(s, chunk, k);
	}
}

int
audio_render(const char *text, int priority, int volume, int16_t **ret_samples, size_t *ret_n,
    int *ret_rate)
{
	struct sink s = { 0 };
	espeak_ERROR e;
	size_t i;
	int rate;

	if ((rate = espeak_up()) < 0)
		return rate;
	tone(&s, rate, priority);
	if (text != NULL) {
		e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
		    NULL, &s);
		if (e != EE_OK) {
			free(s.buf);
			return -EIO;
		}
		(void)espeak_Synchronize();
	}
	if (s.failed) {
		free(s.buf);
		return -ENOMEM;
	}
	for (i = 0; i < s.n; i++)
		s.buf[i] = (int16_t)((int32_t)s.buf[i] * volume / 100);
	*ret_samples = s.buf;
	*ret_n = s.n;
	*ret_rate = rate;
	return 0;
}

static void
le16(unsigned char *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void
le32(unsigned char *p, uint32_t v)
{
	le16(p, v & 0xffff);
	le16(p + 2, v >> 16);
}

int
audio_write_wav(const char *path, const int16_t *samples, size_t n, int rate)
{
	unsigned char hdr[44];
	char tmp[4096];
	uint32_t bytes = n * 2;
	FILE *f;
	size_t i;
	int r = 0;

	memcpy(hdr, "RIFF", 4);
	le32(hdr + 4, 36 + bytes);
	memcpy(hdr + 8, "WAVEfmt ", 8);
	le32(hdr + 16, 16);
	le16(hdr + 20, 1);		/* PCM */
	le16(hdr + 22, 1);		/* mono */
	le32(hdr + 24, rate);
	le32(hdr + 28, rate * 2);
	le16(hdr + 32, 2);
	le16(hdr + 34, 16);
	memcpy(hdr + 36, "data", 4);
	le32(hdr + 40, bytes);
	/* Readers never see half a file: write aside, then rename. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((f = fopen(tmp, "we")) == NULL)
		return -errno;
	fwrite(hdr, 1, sizeof(hdr), f);
	for (i = 0; i < n; i++) {
		unsigned char b[2];

		le16(b, (uint16_t)samples[i]);
		fwrite(b, 1, 2, f);
	}
	if (fflush(f) != 0 || ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* ---- ALSA --------------------------------------------------------------- */

static void
pcm_close(struct audio *au)
{
	int i;

	for (i = 0; i < au->n_pfd; i++)
		au->pcm_io[i] = sd_event_source_disable_unref(au->pcm_io[i]);
	au->n_pfd = 0;
	if (au->pcm != NULL) {
		(void)snd_pcm_drop(au->pcm);
		snd_pcm_close(au->pcm);
		au->pcm = NULL;
	}
	(void)sd_event_source_set_enabled(au->close_timer, SD_EVENT_OFF);
}

static void
audio_error(struct audio *au, int r, const char *what)
{
	if (r == au->last_error)
		return;
	au->last_error = r;
	log_warnx("%s: %s, announcements are silent until it works", what, snd_strerror(r));
}

static void pcm_feed(struct audio *au);

static int
on_pcm(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct audio *au = userdata;
	unsigned short rev = 0;
	int i;

	for (i = 0; i < au->n_pfd; i++)
		if (au->pfd[i].fd == fd)
			au->pfd[i].revents = revents;
	if (snd_pcm_poll_descriptors_revents(au->pcm, au->pfd, au->n_pfd, &rev) < 0 ||
	    (rev & (POLLOUT | POLLERR)))
		pcm_feed(au);
	return 0;
}

static int
on_close_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	pcm_close(userdata);
	return 0;
}

/* Writes what the device takes; when all is queued, closes after it played. */
static void
pcm_feed(struct audio *au)
{
	snd_pcm_sframes_t n, delay = 0;
	uint64_t now;
	int i;

	while (au->pos < au->n) {
		n = snd_pcm_writei(au->pcm, au->buf + au->pos, au->n - au->pos);
		if (n == -EAGAIN)
			return;
		if (n < 0 && snd_pcm_recover(au->pcm, n, 1) < 0) {
			audio_error(au, n, "ALSA playback");
			pcm_close(au);
			return;
		}
		if (n > 0)
			au->pos += n;
	}
	for (i = 0; i < au->n_pfd; i++)
		(void)sd_event_source_set_enabled(au->pcm_io[i], SD_EVENT_OFF);
	if (snd_pcm_delay(au->pcm, &delay) < 0 || delay < 0)
		delay = 0;
	(void)sd_event_now(au->a->event, CLOCK_MONOTONIC, &now);
	(void)sd_event_source_set_time(au->close_timer,
	    now + (uint64_t)delay * USEC_PER_SEC / au->rate + 100000);
	(void)sd_event_source_set_enabled(au->close_timer, SD_EVENT_ONESHOT);
}

static void
pcm_play(struct audio *au)
{
	const struct alpr_conf *conf = alertd_conf(au->a);
	int r, i;

	pcm_close(au);
	au->pos = 0;
	if ((r = snd_pcm_open(&au->pcm, conf->alert.audio_device, SND_PCM_STREAM_PLAYBACK,
	    SND_PCM_NONBLOCK)) < 0) {
		au->pcm = NULL;
		audio_error(au, r, "opening ALSA device");
		return;
	}
	if ((r = snd_pcm_set_params(au->pcm, SND_PCM_FORMAT_S16, SND_PCM_ACCESS_RW_INTERLEAVED,
	    1, au->rate, 1, 300000)) < 0) {
		audio_error(au, r, "setting up ALSA device");
		pcm_close(au);
		return;
	}
	au->n_pfd = snd_pcm_poll_descriptors(au->pcm, au->pfd, PCM_FDS_MAX);
	for (i = 0; i < au->n_pfd; i++)
		if ((r = sd_event_add_io(au->a->event, &au->pcm_io[i], au->pfd[i].fd,
		    au->pfd[i].events, on_pcm, au)) < 0) {
			au->n_pfd = i;
			pcm_close(au);
			return;
		}
	au->last_error = 0;
	pcm_feed(au);
}

static void
job_clear(struct audio *au)
{
	free(au->job.buf);
	memset(&au->job, 0, sizeof(au->job));
	free(au->job_text);
	au->job_text = au->job_next = NULL;
	au->job_id = -1;
}

static void
output(struct audio *au, int64_t id)
{
	const struct alpr_conf *conf = alertd_conf(au->a);
	int r;

	if (conf->alert.audio_file[0] == '\0') {
		pcm_play(au);
		return;
	}
	if ((r = audio_write_wav(conf->alert.audio_file, au->buf, au->n, au->rate)) < 0) {
		log_warn_r(r, "writing AudioFile=%s, ignoring", conf->alert.audio_file);
		return;
	}
	au->written++;
	log_debug("hit=%lld: announcement written to %s", (long long)id, conf->alert.audio_file);
}

/*
 * Synthesis runs one phrase ("Seven," "Adam," ...) per idle turn of the
 * loop, so a burst of hits or a page request waits for one word at most,
 * not for the whole announcement.
 */
static int
on_render(sd_event_source *s, void *userdata)
{
	struct audio *au = userdata;
	const struct alpr_conf *conf = alertd_conf(au->a);
	struct hit *hit;
	char *end, keep;
	size_t i;
	int rate;

	if (au->pending_id >= 0 && au->pending_id != au->job_id) {
		/* A new announcement replaces one half made. */
		job_clear(au);
		hit = hits_find(au->a->hits, au->pending_id);
		au->pending_id = -1;
		if (hit == NULL || au->mute)
			return 0;
		if (au->cached_id == hit->id && au->cached_volume == au->volume) {
			output(au, hit->id);
			return 0;
		}
		if ((rate = espeak_up()) < 0 ||
		    (au->job_text = announce_text(hit->body, conf->alert.alphabet)) == NULL) {
			log_warnx("hit=%lld: speech synthesis unavailable, ignoring", (long long)hit->id);
			return 0;
		}
		au->job_rate = rate;
		au->job_next = au->job_text;
		au->job_id = hit->id;
		au->job_volume = au->volume;
		tone(&au->job, rate, hit->priority);
	}
	if (au->job_id < 0)
		return 0;
	au->pending_id = -1;
	if (*au->job_next != '\0') {
		end = au->job_next + strcspn(au->job_next, ",.");
		if (*end != '\0')
			end++;
		keep = *end;
		*end = '\0';
		if (espeak_Synth(au->job_next, end - au->job_next + 1, 0, POS_CHARACTER, 0,
		    espeakCHARS_UTF8, NULL, &au->job) == EE_OK)
			(void)espeak_Synchronize();
		*end = keep;
		au->job_next = end + strspn(end, " ");
		if (*au->job_next != '\0' && !au->job.failed)
			return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	if (au->job.failed) {
		log_warnx("hit=%lld: speech synthesis ran out of memory, ignoring", (long long)au->job_id);
		job_clear(au);
		return 0;
	}
	for (i = 0; i < au->job.n; i++)
		au->job.buf[i] = (int16_t)((int32_t)au->job.buf[i] * au->job_volume / 100);
	free(au->buf);
	au->buf = au->job.buf;
	au->n = au->job.n;
	au->rate = au->job_rate;
	au->cached_id = au->job_id;
	au->cached_volume = au->job_volume;
	au->job.buf = NULL;
	job_clear(au);
	output(au, au->cached_id);
	return 0;
}

void
audio_announce(struct audio *au, const struct hit *hit)
{
	au->pending_id = hit->id;
	(void)sd_event_source_set_enabled(au->render, SD_EVENT_ONESHOT);
}

void
audio_stop(struct audio *au)
{
	au->pending_id = -1;
	job_clear(au);
	(void)sd_event_source_set_enabled(au->render, SD_EVENT_OFF);
	pcm_close(au);
}

void
audio_set(struct audio *au, int mute, int volume)
{
	if (mute >= 0)
		au->mute = mute;
	if (volume >= 0 && volume <= 100)
		au->volume = volume;
	if (au->mute)
		audio_stop(au);
	log_info("audio %s, volume %d%%", au->mute ? "muted" : "on", au->volume);
}

json_t *
audio_json(const struct audio *au)
{
	return json_pack("{s:b, s:i, s:i}", "mute", au->mute, "volume", au->volume,
	    "written", (int)au->written);
}

int
audio_new(struct alertd *a, struct audio **ret)
{
	struct audio *au;
	int r;

	if ((au = calloc(1, sizeof(*au))) == NULL)
		return -ENOMEM;
	au->a = a;
	au->volume = alertd_conf(a)->alert.volume;
	au->pending_id = au->cached_id = au->job_id = -1;
	/* Load the voice now rather than on the first hit. */
	if ((r = espeak_up()) < 0)
		log_warnx("espeak-ng did not start: announcements are silent");
	if ((r = sd_event_add_defer(a->event, &au->render, on_render, au)) < 0 ||
	    (r = sd_event_add_time(a->event, &au->close_timer, CLOCK_MONOTONIC, 0, 10000,
	    on_close_timer, au)) < 0)
		goto fail;
	/* After the page's push and the sockets: the loop's idle work. */
	(void)sd_event_source_set_priority(au->render, SD_EVENT_PRIORITY_IDLE);
	(void)sd_event_source_set_enabled(au->render, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(au->close_timer, SD_EVENT_OFF);
	*ret = au;
	return 0;
fail:
	audio_free(au);
	return r;
}

struct audio *
audio_free(struct audio *au)
{
	if (au == NULL)
		return NULL;
	pcm_close(au);
	job_clear(au);
	sd_event_source_disable_unref(au->render);
	sd_event_source_disable_unref(au->close_timer);
	free(au->buf);
	free(au);
	return NULL;
}
