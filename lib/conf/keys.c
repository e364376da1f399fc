/*
 * Every configuration key: section, name, type, range, default, and
 * whether SIGHUP may change it.  etc/alpr/alpr.conf and alpr.conf(5) show
 * the same keys with the same defaults (tests/unit/test-conf.c checks the
 * shipped file against this table).
 */
#include "config.h"

#include <stdint.h>

#include "conf/conf.h"
#include "conf/conf-table.h"

#define K(sect, field) offsetof(struct sect, field)
#define NOLIMIT 0, 0
#define RANGE(a, b) (a), (b)

static const char *const log_levels[] = { "emerg", "alert", "crit", "err", "warning",
	"notice", "info", "debug", NULL };
static const char *const sources[] = { "v4l2", "images", "video", NULL };
static const char *const modes[] = { "mobile", "fixed", "handheld", NULL };
static const char *const alphabets[] = { "apco", "nato", NULL };

static const struct conf_key general_keys[] = {
	{ "RuntimeDirectory", CONF_T_STR, K(conf_general, runtime_dir), NOLIMIT, ALPR_RUNTIME_DIR, NULL, false },
	{ "StateDirectory", CONF_T_STR, K(conf_general, state_dir), NOLIMIT, ALPR_STATE_DIR, NULL, false },
	{ "LogLevel", CONF_T_ENUM, K(conf_general, log_level), NOLIMIT, "info", log_levels, true },
	{ "AgencyORI", CONF_T_STR, K(conf_general, agency_ori), NOLIMIT, "", NULL, true },
	{ NULL }
};

static const struct conf_key gps_keys[] = {
	{ "Host", CONF_T_STR, K(conf_gps, host), NOLIMIT, "localhost", NULL, true },
	{ "Port", CONF_T_INT, K(conf_gps, port), RANGE(1, 65535), "2947", NULL, true },
	{ "MaxFixAgeSec", CONF_T_INT, K(conf_gps, max_fix_age_sec), RANGE(1, 3600), "5", NULL, true },
	{ NULL }
};

static const struct conf_key capture_keys[] = {
	{ "QueueFrames", CONF_T_INT, K(conf_capture, queue_frames), RANGE(1, 64), "4", NULL, false },
	{ "HealthIntervalSec", CONF_T_INT, K(conf_capture, health_interval_sec), RANGE(1, 3600), "5", NULL, true },
	{ NULL }
};

static const struct conf_key camera_keys[] = {
	{ "Source", CONF_T_ENUM, K(conf_camera, source), NOLIMIT, "v4l2", sources, false },
	{ "Device", CONF_T_STR, K(conf_camera, device), NOLIMIT, "", NULL, false },
	{ "Path", CONF_T_STR, K(conf_camera, path), NOLIMIT, "", NULL, false },
	{ "Width", CONF_T_INT, K(conf_camera, width), RANGE(0, 7680), "0", NULL, false },
	{ "Height", CONF_T_INT, K(conf_camera, height), RANGE(0, 4320), "0", NULL, false },
	{ "FrameRate", CONF_T_DOUBLE, K(conf_camera, frame_rate), RANGE(0, 240), "30", NULL, false },
	{ "Exposure", CONF_T_INT, K(conf_camera, exposure), RANGE(0, 100000), "0", NULL, false },
	{ "Loop", CONF_T_BOOL, K(conf_camera, loop), NOLIMIT, "no", NULL, false },
	{ "Mode", CONF_T_ENUM, K(conf_camera, mode), NOLIMIT, "mobile", modes, true },
	{ "Latitude", CONF_T_DOUBLE, K(conf_camera, latitude), RANGE(-90, 90), "0", NULL, true },
	{ "Longitude", CONF_T_DOUBLE, K(conf_camera, longitude), RANGE(-180, 180), "0", NULL, true },
	{ "MinBrightness", CONF_T_DOUBLE, K(conf_camera, min_brightness), RANGE(0, 255), "20", NULL, true },
	{ "MaxBrightness", CONF_T_DOUBLE, K(conf_camera, max_brightness), RANGE(0, 255), "235", NULL, true },
	{ "MinSharpness", CONF_T_DOUBLE, K(conf_camera, min_sharpness), RANGE(0, 1e6), "20", NULL, true },
	{ "MinContrast", CONF_T_DOUBLE, K(conf_camera, min_contrast), RANGE(0, 128), "4", NULL, true },
	{ NULL }
};

static const struct conf_key ocr_keys[] = {
	{ "Workers", CONF_T_INT, K(conf_ocr, workers), RANGE(0, 16), "0", NULL, false },
	{ "ModelDirectory", CONF_T_STR, K(conf_ocr, model_dir), NOLIMIT, ALPR_DATA_DIR "/models", NULL, false },
	{ "TopN", CONF_T_INT, K(conf_ocr, top_n), RANGE(1, 50), "10", NULL, true },
	{ "TrackCloseFrames", CONF_T_INT, K(conf_ocr, track_close_frames), RANGE(1, 100), "3", NULL, true },
	{ "TrackCloseMs", CONF_T_INT, K(conf_ocr, track_close_ms), RANGE(100, 60000), "1500", NULL, true },
	{ "TrackMinFrames", CONF_T_INT, K(conf_ocr, track_min_frames), RANGE(1, 100), "2", NULL, true },
	{ "TrackRejoinMs", CONF_T_INT, K(conf_ocr, track_rejoin_ms), RANGE(0, 10000), "2000", NULL, true },
	{ "SpoolDirectory", CONF_T_STR, K(conf_ocr, spool_dir), NOLIMIT, "", NULL, false },
	{ "EarlyReadConfidence", CONF_T_INT, K(conf_ocr, early_read_confidence), RANGE(0, 100), "20", NULL, true },
	{ "JobTimeoutSec", CONF_T_INT, K(conf_ocr, job_timeout_sec), RANGE(1, 600), "10", NULL, true },
	{ NULL }
};

static const struct conf_key match_keys[] = {
	{ "MaxSubstitutions", CONF_T_INT, K(conf_match, max_substitutions), RANGE(0, 2), "1", NULL, true },
	{ "AlertCooldownSec", CONF_T_INT, K(conf_match, alert_cooldown_sec), RANGE(0, 86400), "300", NULL, true },
	{ "RetroWindowHours", CONF_T_INT, K(conf_match, retro_window_hours), RANGE(0, 720), "24", NULL, true },
	{ "OcrClasses", CONF_T_STR, K(conf_match, ocr_classes), NOLIMIT, "0ODQ,8B,5S,2Z,1I,6G", NULL, true },
	{ "NcicListCodes", CONF_T_STR, K(conf_match, ncic_list_codes), NOLIMIT,
	  "V=stolen-vehicle,L=stolen-plate,W=wanted,M=missing,F=felony-vehicle,B=bolo,I=immigration", NULL, true },
	{ "MaxListAgeHours", CONF_T_INT, K(conf_match, max_list_age_hours), RANGE(1, 720), "36", NULL, true },
	{ NULL }
};

static const struct conf_key alert_keys[] = {
	{ "Listen", CONF_T_STR, K(conf_alert, listen), NOLIMIT, "127.0.0.1:8088", NULL, false },
	{ "TLSCertificate", CONF_T_STR, K(conf_alert, tls_certificate), NOLIMIT, "", NULL, false },
	{ "TLSKey", CONF_T_STR, K(conf_alert, tls_key), NOLIMIT, "", NULL, false },
	{ "AudioDevice", CONF_T_STR, K(conf_alert, audio_device), NOLIMIT, "default", NULL, true },
	{ "AudioFile", CONF_T_STR, K(conf_alert, audio_file), NOLIMIT, "", NULL, true },
	{ "Alphabet", CONF_T_ENUM, K(conf_alert, alphabet), NOLIMIT, "apco", alphabets, true },
	{ "Volume", CONF_T_INT, K(conf_alert, volume), RANGE(0, 100), "80", NULL, true },
	{ "RepeatUntilAck", CONF_T_BOOL, K(conf_alert, repeat_until_ack), NOLIMIT, "yes", NULL, true },
	{ "RepeatIntervalSec", CONF_T_INT, K(conf_alert, repeat_interval_sec), RANGE(2, 600), "15", NULL, false },
	{ "NightStartHour", CONF_T_INT, K(conf_alert, night_start_hour), RANGE(0, 23), "19", NULL, true },
	{ "NightEndHour", CONF_T_INT, K(conf_alert, night_end_hour), RANGE(0, 23), "7", NULL, true },
	{ NULL }
};

static const struct conf_key storage_keys[] = {
	{ "Database", CONF_T_STR, K(conf_storage, database), NOLIMIT, "", NULL, false },
	{ "RetentionDays", CONF_T_INT, K(conf_storage, retention_days), RANGE(1, CONF_RETENTION_DAYS_MAX), "365", NULL, true },
	{ NULL }
};

static const struct conf_key policy_keys[] = {
	{ "PolicyVersion", CONF_T_STR, K(conf_policy, policy_version), NOLIMIT, "CCCSO-1.07.38", NULL, true },
	{ "TrainingValidDays", CONF_T_INT, K(conf_policy, training_valid_days), RANGE(1, 365), "365", NULL, true },
	{ "SessionTimeoutMin", CONF_T_INT, K(conf_policy, session_timeout_min), RANGE(1, 1440), "720", NULL, true },
	{ "MaxFailedLogins", CONF_T_INT, K(conf_policy, max_failed_logins), RANGE(1, 100), "5", NULL, true },
	{ "ManualEntryMaxDays", CONF_T_INT, K(conf_policy, manual_entry_max_days), RANGE(1, 365), "30", NULL, true },
	{ NULL }
};

#define S(name, field, keys) { name, false, offsetof(struct alpr_conf, field), keys }
const struct conf_section conf_sections[] = {
	S("general", general, general_keys),
	S("gps", gps, gps_keys),
	S("capture", capture, capture_keys),
	{ "camera", true, 0, camera_keys },
	S("ocr", ocr, ocr_keys),
	S("match", match, match_keys),
	S("alert", alert, alert_keys),
	S("storage", storage, storage_keys),
	S("policy", policy, policy_keys),
	{ NULL }
};
