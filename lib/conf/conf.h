/*
 * Configuration: /etc/alpr/alpr.conf plus /etc/alpr/alpr.conf.d/ *.conf in
 * lexical order, systemd-style INI.  One section per daemon, one
 * [camera.NAME] section per camera.  Every key is in the table in keys.c
 * with its type, range and default; unknown sections and keys, bad values
 * and a key repeated within one file are errors naming file:line.
 * A later file overrides an earlier one.
 */
#ifndef ALPR_CONF_H
#define ALPR_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH ALPR_SYSCONF_DIR "/alpr.conf"
#define CONF_CAMERAS_MAX 16
#define CONF_NAME_MAX 32
#define CONF_VALUE_MAX 190	/* libinih cuts lines at 199 bytes */
#define CONF_RETENTION_DAYS_MAX 365	/* policy IV.F.5: a ceiling, never raised */

struct conf_general {
	char *runtime_dir;
	char *state_dir;
	int log_level;		/* syslog level */
	char *agency_ori;
};

struct conf_gps {
	char *host;
	int64_t port;
	int64_t max_fix_age_sec;
};

struct conf_camera {
	char name[CONF_NAME_MAX + 1];
	int source;		/* enum conf_camera_source */
	char *device;		/* V4L2 node or /dev/v4l/by-id name */
	char *path;		/* replay folder or video file */
	int64_t width, height;
	double frame_rate;
	bool loop;
	int mode;		/* enum conf_camera_mode */
	double latitude, longitude;	/* fixed cameras */
	double min_brightness, max_brightness, min_sharpness;
	double min_contrast;	/* below: blank (covered or obstructed) */
	int64_t exposure;	/* V4L2 absolute exposure, 100 us units; 0: auto */
};

enum conf_camera_source { CONF_SOURCE_V4L2, CONF_SOURCE_IMAGES, CONF_SOURCE_VIDEO };
enum conf_camera_mode { CONF_MODE_MOBILE, CONF_MODE_FIXED, CONF_MODE_HANDHELD };

struct conf_capture {
	int64_t queue_frames;
	int64_t health_interval_sec;
};

struct conf_ocr {
	int64_t workers;
	char *model_dir;
	int64_t top_n;
	int64_t track_close_frames;	/* a track unseen this many frames is closed */
	int64_t track_close_ms;		/* or unseen this long */
	int64_t track_min_frames;	/* shorter tracks give no read */
	int64_t track_rejoin_ms;	/* a closed track's plate again this soon: one read */
	char *spool_dir;		/* "": StateDirectory with "-ocrd" appended */
	int64_t early_read_confidence;	/* read sent before the track closes (0: never) */
	int64_t job_timeout_sec;	/* a worker busy this long on one frame is killed */
};

struct conf_match {
	int64_t max_substitutions;
	int64_t alert_cooldown_sec;
	int64_t retro_window_hours;
	char *ocr_classes;	/* "0ODQ,8B,...": checked by hotlist_index_new() */
	char *ncic_list_codes;	/* "V=stolen-vehicle,...": hotlist_codes_parse() */
	int64_t max_list_age_hours;
};

struct conf_alert {
	char *listen;
	char *tls_certificate;	/* PEM; with tls_key allows a non-loopback Listen= */
	char *tls_key;
	char *audio_device;
	char *audio_file;	/* announcements go to this WAV instead of ALSA */
	int alphabet;		/* enum conf_alphabet */
	int64_t volume;		/* percent */
	bool repeat_until_ack;
	int64_t repeat_interval_sec;
	int64_t night_start_hour, night_end_hour;	/* the page's automatic night mode */
};

enum conf_alphabet { CONF_ALPHABET_APCO, CONF_ALPHABET_NATO };

struct conf_storage {
	char *database;
	int64_t retention_days;
};

struct conf_policy {
	char *policy_version;
	int64_t training_valid_days;
	int64_t session_timeout_min;
	int64_t max_failed_logins;
	int64_t manual_entry_max_days;
};

struct alpr_conf {
	struct conf_general general;
	struct conf_gps gps;
	struct conf_capture capture;
	struct conf_ocr ocr;
	struct conf_match match;
	struct conf_alert alert;
	struct conf_storage storage;
	struct conf_policy policy;
	struct conf_camera cameras[CONF_CAMERAS_MAX];
	size_t n_cameras;
};

/*
 * Load path (NULL: the default) and its drop-in directory path + ".d".
 * On failure returns -errno (-EINVAL for a bad file) and, if ret_error is
 * given, a malloc'd text of every problem, one "file:line: what" a line.
 */
int conf_load(const char *path, struct alpr_conf **ret, char **ret_error);
/* One file's text, named name in errors, without drop-ins (tests, fuzzing). */
int conf_load_text(const char *name, const char *text, size_t size, struct alpr_conf **ret,
    char **ret_error);
/* Defaults only, as if the file were empty. */
int conf_defaults(struct alpr_conf **ret);
void conf_free(struct alpr_conf *conf);
const struct conf_camera *conf_camera(const struct alpr_conf *conf, const char *name);
/*
 * The first key that differs between a and b and cannot change on reload
 * ("section.Key"), or NULL when b may replace a.
 */
const char *conf_reload_blocker(const struct alpr_conf *a, const struct alpr_conf *b);

#endif
