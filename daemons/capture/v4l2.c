/*
 * A V4L2 camera through libv4l2: the device by path or /dev/v4l/by-id name,
 * format negotiation that prefers what the camera gives natively (GREY,
 * then YUYV; otherwise libv4l2 converts to YUV420), memory-mapped
 * streaming with a small ring of V4L2_BUFS buffers, frame rate and
 * exposure where the driver has the controls, driver timestamps
 * (monotonic) mapped to wall-clock time.
 *
 * Each frame's luma is copied once into a sealed memfd (the driver's
 * buffers go back to it at once, and a sealed memfd cannot alias them).
 *
 * Runs in alpr-captured.  Trusts the driver's buffers only as pixels:
 * sizes are checked against the negotiated format before any copy.
 *
 * States: CLOSED --open+stream ok--> STREAMING --error, EPOLLERR, or no
 * frame for stall_usec--> CLOSED (reported down; retry timer with backoff
 * V4L2_BACKOFF_MIN_USEC doubling to V4L2_BACKOFF_MAX_USEC).  An unplugged
 * camera thus comes back by itself when it is plugged in again, without a
 * restart of the daemon.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <limits.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"
#include "base/time.h"
#include "capture.h"

#define V4L2_BUFS 4
#define V4L2_BACKOFF_MIN_USEC (500 * USEC_PER_MSEC)
#define V4L2_BACKOFF_MAX_USEC (10 * USEC_PER_SEC)
#define V4L2_STALL_MIN_USEC (2 * USEC_PER_SEC)
#define V4L2_BY_ID "/dev/v4l/by-id/"

struct v4l2_buf {
	void *start;
	size_t length;
};

struct v4l2_src {
	struct source src;
	sd_event *event;
	struct source_sink sink;
	char *device;
	char path[PATH_MAX];
	int want_width, want_height;
	double frame_rate;
	int64_t exposure;

	int fd;
	bool streaming;
	struct v4l2_buf bufs[V4L2_BUFS];
	unsigned n_bufs;
	uint32_t pixfmt;
	int width, height, bytesperline;
	size_t need_bytes;		/* a complete frame in the negotiated format */

	sd_event_source *io;
	sd_event_source *retry;
	sd_event_source *stall;
	int64_t backoff_usec;
	int64_t stall_usec;
	int64_t last_frame_mono;
	bool up;
	bool reported;			/* up/down said at least once */
	unsigned bad_frames;
};

static int
xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = v4l2_ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static const char *
fourcc(uint32_t f, char buf[5])
{
	buf[0] = f & 0x7f;
	buf[1] = (f >> 8) & 0x7f;
	buf[2] = (f >> 16) & 0x7f;
	buf[3] = (f >> 24) & 0x7f;
	buf[4] = '\0';
	return buf;
}

static void
v4l2_close_device(struct v4l2_src *v)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers req = { 0 };
	unsigned i;

	v->io = sd_event_source_disable_unref(v->io);
	v->stall = sd_event_source_disable_unref(v->stall);
	if (v->fd < 0)
		return;
	if (v->streaming)
		(void)xioctl(v->fd, VIDIOC_STREAMOFF, &type);
	v->streaming = false;
	for (i = 0; i < v->n_bufs; i++)
		if (v->bufs[i].start != NULL && v->bufs[i].start != MAP_FAILED)
			(void)v4l2_munmap(v->bufs[i].start, v->bufs[i].length);
	if (v->n_bufs > 0) {
		req.count = 0;
		req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		req.memory = V4L2_MEMORY_MMAP;
		(void)xioctl(v->fd, VIDIOC_REQBUFS, &req);
	}
	memset(v->bufs, 0, sizeof(v->bufs));
	v->n_bufs = 0;
	(void)v4l2_close(v->fd);
	v->fd = -1;
}

static void v4l2_schedule(struct v4l2_src *v);

/* The camera failed or is gone: report it down (once) and try again later. */
static void
v4l2_fail(struct v4l2_src *v, const char *what, int r)
{
	char why[160];

	snprintf(why, sizeof(why), "%.100s: %s: %s", v->path, what, strerror(-r));
	v4l2_close_device(v);
	/* The daemon logs the cause once, as the camera's change of health. */
	log_debug("camera %s: %s, retrying", v->path, why);
	if (v->up || !v->reported) {
		v->up = false;
		v->reported = true;
		v->sink.state(v->sink.userdata, false, why);
	}
	v4l2_schedule(v);
}

/* Driver time (CLOCK_MONOTONIC) of a buffer, and the same moment on the wall clock. */
static void
frame_times(const struct v4l2_buffer *b, int64_t *ret_real, int64_t *ret_mono)
{
	int64_t now_mono = time_monotonic_usec(), now_real = time_realtime_usec();
	int64_t t = (int64_t)b->timestamp.tv_sec * USEC_PER_SEC + b->timestamp.tv_usec;

	/* Only a monotonic stamp can be mapped; a nonsense one is not trusted. */
	if ((b->flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC ||
	    t <= 0 || t > now_mono || now_mono - t > 10 * USEC_PER_SEC)
		t = now_mono;
	*ret_mono = t;
	*ret_real = now_real - (now_mono - t);
}

/* Copies the luma of a filled buffer into a new sealed frame. */
static struct frame *
take_luma(struct v4l2_src *v, const struct v4l2_buffer *b)
{
	const uint8_t *src = v->bufs[b->index].start;
	struct frame *f;
	uint8_t *dst, *d;
	const uint8_t *s;
	int x, y, r;

	if ((b->bytesused != 0 && b->bytesused < v->need_bytes) ||
	    v->bufs[b->index].length < v->need_bytes || (b->flags & V4L2_BUF_FLAG_ERROR)) {
		if (v->bad_frames++ < 8)
			log_warnx("camera %s: incomplete frame (%u of %zu bytes), skipping",
			    v->path, b->bytesused, v->need_bytes);
		return NULL;
	}
	if ((r = frame_new(v->width, v->height, &f, &dst)) < 0) {
		log_warn_r(r, "camera %s: frame of %dx%d", v->path, v->width, v->height);
		return NULL;
	}
	for (y = 0; y < v->height; y++) {
		s = src + (size_t)y * v->bytesperline;
		d = dst + (size_t)y * v->width;
		if (v->pixfmt == V4L2_PIX_FMT_YUYV)
			for (x = 0; x < v->width; x++)
				d[x] = s[2 * x];
		else	/* GREY, or the Y plane of YUV420 */
			memcpy(d, s, v->width);
	}
	if ((r = frame_seal(f, dst)) < 0) {
		log_warn_r(r, "camera %s: sealing a frame", v->path);
		return frame_unref(f);
	}
	return f;
}

static int
on_v4l2_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct v4l2_src *v = userdata;
	struct v4l2_buffer b;
	struct frame *f;
	int64_t real, mono;
	unsigned n;
	int r;

	for (n = 0; n < V4L2_BUFS; n++) {
		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		r = xioctl(v->fd, VIDIOC_DQBUF, &b);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			v4l2_fail(v, "dequeue", r);
			return 0;
		}
		if (b.index >= v->n_bufs) {
			v4l2_fail(v, "dequeue", -EPROTO);
			return 0;
		}
		frame_times(&b, &real, &mono);
		f = take_luma(v, &b);
		if ((r = xioctl(v->fd, VIDIOC_QBUF, &b)) < 0) {
			frame_unref(f);
			v4l2_fail(v, "queue", r);
			return 0;
		}
		if (f == NULL)
			continue;
		v->last_frame_mono = mono;
		if (!v->up) {
			v->up = true;
			v->reported = true;
			v->backoff_usec = V4L2_BACKOFF_MIN_USEC;
			log_info("camera %s: streaming %s", v->path, v->src.desc);
			v->sink.state(v->sink.userdata, true, NULL);
		}
		v->sink.frame(v->sink.userdata, f, real, mono);
		frame_unref(f);
	}
	/* An error with nothing to dequeue: the device is gone or stopped. */
	if (n == 0 && (revents & (EPOLLERR | EPOLLHUP)))
		v4l2_fail(v, "device", -ENODEV);
	return 0;
}

static int
on_stall(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct v4l2_src *v = userdata;
	int64_t now = time_monotonic_usec();

	if (now - v->last_frame_mono > v->stall_usec) {
		v4l2_fail(v, "no frame", -ETIMEDOUT);
		return 0;
	}
	(void)sd_event_source_set_time(s, now + v->stall_usec / 2);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* Native GREY, native YUYV, else YUV420 (which libv4l2 can make of most formats). */
static uint32_t
pick_format(int fd)
{
	struct v4l2_fmtdesc d;
	bool grey = false, yuyv = false;

	for (d = (struct v4l2_fmtdesc){ .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	    d.index < 64 && xioctl(fd, VIDIOC_ENUM_FMT, &d) == 0; d.index++) {
		if (d.flags & V4L2_FMT_FLAG_EMULATED)
			continue;
		if (d.pixelformat == V4L2_PIX_FMT_GREY)
			grey = true;
		else if (d.pixelformat == V4L2_PIX_FMT_YUYV)
			yuyv = true;
	}
	return grey ? V4L2_PIX_FMT_GREY : yuyv ? V4L2_PIX_FMT_YUYV : V4L2_PIX_FMT_YUV420;
}

static void
set_controls(struct v4l2_src *v)
{
	struct v4l2_queryctrl q = { .id = V4L2_CID_EXPOSURE_ABSOLUTE };
	struct v4l2_control c;
	struct v4l2_streamparm p = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int64_t e;
	int r;

	if (v->frame_rate > 0 && xioctl(v->fd, VIDIOC_G_PARM, &p) == 0 &&
	    (p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME)) {
		p.parm.capture.timeperframe.numerator = 1000;
		p.parm.capture.timeperframe.denominator = (uint32_t)(v->frame_rate * 1000);
		if ((r = xioctl(v->fd, VIDIOC_S_PARM, &p)) < 0)
			log_warn_r(r, "camera %s: frame rate %.1f, ignoring", v->path, v->frame_rate);
	} else if (v->frame_rate > 0)
		log_debug("camera %s: no frame rate control", v->path);

	if (v->exposure <= 0)
		return;
	if (xioctl(v->fd, VIDIOC_QUERYCTRL, &q) < 0 || (q.flags & V4L2_CTRL_FLAG_DISABLED)) {
		log_info("camera %s: no exposure control, Exposure= ignored", v->path);
		return;
	}
	c = (struct v4l2_control){ .id = V4L2_CID_EXPOSURE_AUTO, .value = V4L2_EXPOSURE_MANUAL };
	(void)xioctl(v->fd, VIDIOC_S_CTRL, &c);	/* absent on cameras without auto exposure */
	e = v->exposure < q.minimum ? q.minimum : v->exposure > q.maximum ? q.maximum : v->exposure;
	c = (struct v4l2_control){ .id = V4L2_CID_EXPOSURE_ABSOLUTE, .value = (int32_t)e };
	if ((r = xioctl(v->fd, VIDIOC_S_CTRL, &c)) < 0)
		log_warn_r(r, "camera %s: exposure %lld, ignoring", v->path, (long long)e);
}

static int
v4l2_open_device(struct v4l2_src *v, const char **ret_what)
{
	struct v4l2_capability cap = { 0 };
	struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_requestbuffers req = { 0 };
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_buffer b;
	uint32_t caps, want;
	char cc[5];
	unsigned i;
	int r;

	*ret_what = "open";
	if ((v->fd = v4l2_open(v->path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		v->fd = -1;
		return -errno;
	}
	*ret_what = "query capabilities";
	if ((r = xioctl(v->fd, VIDIOC_QUERYCAP, &cap)) < 0)
		return r;
	caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING))
		return -ENOTTY;

	*ret_what = "set format";
	want = pick_format(v->fd);
	if ((r = xioctl(v->fd, VIDIOC_G_FMT, &fmt)) < 0)
		return r;
	if (v->want_width > 0 && v->want_height > 0) {
		fmt.fmt.pix.width = v->want_width;
		fmt.fmt.pix.height = v->want_height;
	}
	fmt.fmt.pix.pixelformat = want;
	fmt.fmt.pix.field = V4L2_FIELD_ANY;
	if ((r = xioctl(v->fd, VIDIOC_S_FMT, &fmt)) < 0)
		return r;
	if (fmt.fmt.pix.pixelformat != want || fmt.fmt.pix.width == 0 ||
	    fmt.fmt.pix.height == 0 || fmt.fmt.pix.width > 16384 || fmt.fmt.pix.height > 16384)
		return -EPROTO;
	v->pixfmt = want;
	v->width = fmt.fmt.pix.width;
	v->height = fmt.fmt.pix.height;
	v->bytesperline = fmt.fmt.pix.bytesperline;
	if (v->bytesperline < v->width * (want == V4L2_PIX_FMT_YUYV ? 2 : 1))
		v->bytesperline = v->width * (want == V4L2_PIX_FMT_YUYV ? 2 : 1);
	v->need_bytes = (size_t)v->bytesperline * (v->height - 1) +
	    (size_t)v->width * (want == V4L2_PIX_FMT_YUYV ? 2 : 1);
	if (v->want_width > 0 && (v->width != v->want_width || v->height != v->want_height))
		log_info("camera %s: asked for %dx%d, the camera gives %dx%d", v->path,
		    v->want_width, v->want_height, v->width, v->height);
	set_controls(v);

	*ret_what = "request buffers";
	req.count = V4L2_BUFS;
	req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	req.memory = V4L2_MEMORY_MMAP;
	if ((r = xioctl(v->fd, VIDIOC_REQBUFS, &req)) < 0)
		return r;
	if (req.count < 2)
		return -ENOBUFS;
	v->n_bufs = req.count > V4L2_BUFS ? V4L2_BUFS : req.count;
	*ret_what = "map buffers";
	for (i = 0; i < v->n_bufs; i++) {
		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		b.index = i;
		if ((r = xioctl(v->fd, VIDIOC_QUERYBUF, &b)) < 0)
			return r;
		v->bufs[i].length = b.length;
		v->bufs[i].start = v4l2_mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
		    v->fd, b.m.offset);
		if (v->bufs[i].start == MAP_FAILED) {
			v->bufs[i].start = NULL;
			return -errno;
		}
		if ((r = xioctl(v->fd, VIDIOC_QBUF, &b)) < 0)
			return r;
	}
	*ret_what = "start streaming";
	if ((r = xioctl(v->fd, VIDIOC_STREAMON, &type)) < 0)
		return r;
	v->streaming = true;
	snprintf(v->src.desc, sizeof(v->src.desc), "v4l2 %.100s %dx%d %s", v->path, v->width,
	    v->height, fourcc(v->pixfmt, cc));
	return 0;
}

static int
v4l2_try(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct v4l2_src *v = userdata;
	const char *what;
	int64_t now;
	int r;

	if ((r = v4l2_open_device(v, &what)) < 0) {
		v4l2_fail(v, what, r);
		return 0;
	}
	what = "watch";
	if ((r = sd_event_add_io(v->event, &v->io, v->fd, EPOLLIN, on_v4l2_io, v)) < 0) {
		v4l2_fail(v, what, r);
		return 0;
	}
	/* Up when the first frame comes; no frame within stall_usec is a failure. */
	now = time_monotonic_usec();
	v->last_frame_mono = now;
	if ((r = sd_event_add_time(v->event, &v->stall, CLOCK_MONOTONIC, now + v->stall_usec,
	    USEC_PER_MSEC * 50, on_stall, v)) < 0) {
		v4l2_fail(v, what, r);
		return 0;
	}
	(void)sd_event_source_set_enabled(v->stall, SD_EVENT_ONESHOT);
	return 0;
}

static void
v4l2_schedule(struct v4l2_src *v)
{
	int64_t now = time_monotonic_usec();

	if (v->retry == NULL) {
		if (sd_event_add_time(v->event, &v->retry, CLOCK_MONOTONIC, now + v->backoff_usec,
		    USEC_PER_MSEC * 10, v4l2_try, v) < 0) {
			log_warnx("camera %s: cannot arm the retry timer", v->path);
			return;
		}
	} else
		(void)sd_event_source_set_time(v->retry, now + v->backoff_usec);
	(void)sd_event_source_set_enabled(v->retry, SD_EVENT_ONESHOT);
	v->backoff_usec = v->backoff_usec * 2 > V4L2_BACKOFF_MAX_USEC ? V4L2_BACKOFF_MAX_USEC :
	    v->backoff_usec * 2;
}

static void
v4l2_free(struct source *s)
{
	struct v4l2_src *v = (struct v4l2_src *)s;

	v4l2_close_device(v);
	sd_event_source_disable_unref(v->retry);
	free(v->device);
	free(v);
}

int
v4l2_source_new(sd_event *e, const struct conf_camera *cam, const struct source_sink *sink,
    struct source **ret)
{
	struct v4l2_src *v;
	int n;

	if (cam->device == NULL || cam->device[0] == '\0')
		return -EDESTADDRREQ;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -ENOMEM;
	v->src.kind = "v4l2";
	v->src.free = v4l2_free;
	v->event = e;
	v->sink = *sink;
	v->fd = -1;
	v->want_width = (int)cam->width;
	v->want_height = (int)cam->height;
	v->frame_rate = cam->frame_rate;
	v->exposure = cam->exposure;
	/* Ten frame times without a frame, but never less than two seconds. */
	v->stall_usec = cam->frame_rate > 0 ? (int64_t)(10 * USEC_PER_SEC / cam->frame_rate) : 0;
	if (v->stall_usec < V4L2_STALL_MIN_USEC)
		v->stall_usec = V4L2_STALL_MIN_USEC;
	/* A bare name is one of udev's stable /dev/v4l/by-id/ links. */
	if (strchr(cam->device, '/') == NULL)
		n = snprintf(v->path, sizeof(v->path), "%s%s", V4L2_BY_ID, cam->device);
	else
		n = snprintf(v->path, sizeof(v->path), "%s", cam->device);
	if (n < 0 || (size_t)n >= sizeof(v->path) || (v->device = strdup(cam->device)) == NULL) {
		free(v);
		return n < 0 || (size_t)n >= sizeof(v->path) ? -ENAMETOOLONG : -ENOMEM;
	}
	snprintf(v->src.desc, sizeof(v->src.desc), "v4l2 %.100s", v->path);
	/* The first attempt runs from the loop, at once. */
	v->backoff_usec = 0;
	v4l2_schedule(v);
	v->backoff_usec = V4L2_BACKOFF_MIN_USEC;
	*ret = &v->src;
	return 0;
}
