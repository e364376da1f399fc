/*
 * LD_PRELOAD fake of a V4L2 camera at libv4l2's API (v4l2_open, v4l2_ioctl,
 * v4l2_mmap, v4l2_munmap, v4l2_close), for tests/system/074-capture-v4l2.sh.
 *
 * Why a fake: this host has no /dev/video and cannot load vivid or
 * v4l2loopback, so the one thing it cannot give, a capture device, is
 * faked here and nothing else: alpr-captured's own V4L2 code (format
 * negotiation, mmap ring, DQBUF/QBUF, timestamps, unplug recovery) runs
 * unchanged against it.  The VM harness (packaging) runs the same daemon
 * against vivid's /dev/video0.
 *
 * The fake camera, at the path in $FAKE_V4L2_DEVICE (other paths go to
 * the real libv4l2): formats MJPG and YUYV (native), any size up to
 * 1920x1080, rows padded by 64 bytes, a frame per tick of a timerfd (the
 * fd the daemon polls) at the S_PARM rate.  Frame n has Y = 40 + n % 150
 * everywhere, U = V = 250, so a receiver can tell luma from chroma.
 * Buffers carry monotonic timestamps 5 ms in the past.  While the file
 * $FAKE_V4L2_UNPLUG exists, the camera is unplugged: open fails with
 * ENOENT and DQBUF with ENODEV.  While $FAKE_V4L2_FREEZE exists, the camera
 * gives no frame (a hung sensor).  $FAKE_V4L2_LOG gets a line per control set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <linux/videodev2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NBUF 4
#define PAD 64

static struct fake {
	int fd;			/* a timerfd, -1 when closed */
	unsigned width, height, bpl;
	double fps;
	uint8_t *buf[NBUF];
	unsigned nbuf;
	bool queued[NBUF];
	unsigned qorder[NBUF], qhead, qlen;
	bool streaming;
	uint32_t seq;
} cam = { .fd = -1, .width = 640, .height = 480, .fps = 30 };

static bool
unplugged(void)
{
	const char *p = getenv("FAKE_V4L2_UNPLUG");

	return p != NULL && access(p, F_OK) == 0;
}

static void
note(const char *fmt, ...)
{
	const char *p = getenv("FAKE_V4L2_LOG");
	va_list ap;
	FILE *f;

	if (p == NULL || (f = fopen(p, "a")) == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static void
arm(void)
{
	long ns = (long)(1e9 / cam.fps);
	struct itimerspec it = { { ns / 1000000000, ns % 1000000000 },
		{ ns / 1000000000, ns % 1000000000 } };

	timerfd_settime(cam.fd, 0, &it, NULL);
}

int
v4l2_open(const char *file, int oflag, ...)
{
	const char *dev = getenv("FAKE_V4L2_DEVICE");
	static int (*real)(const char *, int, ...);

	if (dev == NULL || strcmp(file, dev) != 0) {
		if (real == NULL)
			real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "v4l2_open");
		return real(file, oflag, 0);
	}
	if (unplugged()) {
		errno = ENOENT;
		return -1;
	}
	if (cam.fd >= 0) {
		errno = EBUSY;
		return -1;
	}
	cam.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	cam.streaming = false;
	note("open");
	return cam.fd;
}

static void
free_bufs(void)
{
	unsigned i;

	for (i = 0; i < cam.nbuf; i++)
		free(cam.buf[i]);
	cam.nbuf = 0;
	cam.qlen = 0;
	memset(cam.queued, 0, sizeof(cam.queued));
}

int
v4l2_close(int fd)
{
	static int (*real)(int);

	if (fd != cam.fd || fd < 0) {
		if (real == NULL)
			real = (int (*)(int))dlsym(RTLD_NEXT, "v4l2_close");
		return real(fd);
	}
	free_bufs();
	close(cam.fd);
	cam.fd = -1;
	note("close");
	return 0;
}

void *
v4l2_mmap(void *start, size_t length, int prot, int flags, int fd, int64_t offset)
{
	static void *(*real)(void *, size_t, int, int, int, int64_t);
	unsigned i = (unsigned)(offset >> 20);

	if (fd != cam.fd || fd < 0) {
		if (real == NULL)
			real = (void *(*)(void *, size_t, int, int, int, int64_t))dlsym(RTLD_NEXT,
			    "v4l2_mmap");
		return real(start, length, prot, flags, fd, offset);
	}
	if (i >= cam.nbuf) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	return cam.buf[i];
}

int
v4l2_munmap(void *start, size_t length)
{
	unsigned i;

	for (i = 0; i < cam.nbuf; i++)
		if (cam.buf[i] == start)
			return 0;
	return munmap(start, length);
}

static void
fill(uint8_t *p, uint32_t n)
{
	unsigned x, y;
	uint8_t luma = 40 + n % 150;

	for (y = 0; y < cam.height; y++) {
		uint8_t *row = p + (size_t)y * cam.bpl;

		for (x = 0; x < cam.width * 2; x += 2) {
			row[x] = luma;
			row[x + 1] = 250;
		}
		memset(row + cam.width * 2, 0xEE, cam.bpl - cam.width * 2);
	}
}

static int
fail(int e)
{
	errno = e;
	return -1;
}

static int
ioctl_fake(unsigned long req, void *arg)
{
	switch (req) {
	case VIDIOC_QUERYCAP: {
		struct v4l2_capability *c = arg;

		memset(c, 0, sizeof(*c));
		strcpy((char *)c->driver, "fake");
		strcpy((char *)c->card, "alpr test camera");
		c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
		c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
		return 0;
	}
	case VIDIOC_ENUM_FMT: {
		struct v4l2_fmtdesc *d = arg;

		if (d->index > 1)
			return fail(EINVAL);
		d->flags = d->index == 0 ? V4L2_FMT_FLAG_COMPRESSED : 0;
		d->pixelformat = d->index == 0 ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
		return 0;
	}
	case VIDIOC_G_FMT:
	case VIDIOC_S_FMT: {
		struct v4l2_format *f = arg;

		if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
			return fail(EINVAL);
		if (req == VIDIOC_S_FMT) {
			if (cam.nbuf > 0)
				return fail(EBUSY);
			if (f->fmt.pix.pixelformat != V4L2_PIX_FMT_YUYV)
				return fail(EINVAL);
			cam.width = f->fmt.pix.width > 1920 ? 1920 : f->fmt.pix.width & ~1u;
			cam.height = f->fmt.pix.height > 1080 ? 1080 : f->fmt.pix.height;
			if (cam.width < 16 || cam.height < 16)
				cam.width = 640, cam.height = 480;
		}
		cam.bpl = cam.width * 2 + PAD;
		f->fmt.pix.width = cam.width;
		f->fmt.pix.height = cam.height;
		f->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
		f->fmt.pix.bytesperline = cam.bpl;
		f->fmt.pix.sizeimage = cam.bpl * cam.height;
		f->fmt.pix.field = V4L2_FIELD_NONE;
		return 0;
	}
	case VIDIOC_G_PARM:
	case VIDIOC_S_PARM: {
		struct v4l2_streamparm *p = arg;

		if (req == VIDIOC_S_PARM && p->parm.capture.timeperframe.denominator > 0)
			cam.fps = (double)p->parm.capture.timeperframe.denominator /
			    p->parm.capture.timeperframe.numerator;
		p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
		p->parm.capture.timeperframe.numerator = 1000;
		p->parm.capture.timeperframe.denominator = (uint32_t)(cam.fps * 1000);
		note("fps %.1f", cam.fps);
		return 0;
	}
	case VIDIOC_QUERYCTRL: {
		struct v4l2_queryctrl *q = arg;

		if (q->id != V4L2_CID_EXPOSURE_ABSOLUTE && q->id != V4L2_CID_EXPOSURE_AUTO)
			return fail(EINVAL);
		q->minimum = 1;
		q->maximum = 5000;
		q->flags = 0;
		return 0;
	}
	case VIDIOC_S_CTRL: {
		struct v4l2_control *c = arg;

		if (c->id == V4L2_CID_EXPOSURE_ABSOLUTE)
			note("exposure %d", c->value);
		else if (c->id == V4L2_CID_EXPOSURE_AUTO)
			note("exposure_auto %d", c->value);
		else
			return fail(EINVAL);
		return 0;
	}
	case VIDIOC_REQBUFS: {
		struct v4l2_requestbuffers *r = arg;
		unsigned i;

		if (r->memory != V4L2_MEMORY_MMAP)
			return fail(EINVAL);
		free_bufs();
		cam.nbuf = r->count > NBUF ? NBUF : r->count;
		for (i = 0; i < cam.nbuf; i++)
			if ((cam.buf[i] = malloc((size_t)cam.bpl * cam.height)) == NULL)
				return fail(ENOMEM);
		r->count = cam.nbuf;
		return 0;
	}
	case VIDIOC_QUERYBUF:
	case VIDIOC_QBUF: {
		struct v4l2_buffer *b = arg;

		if (b->index >= cam.nbuf)
			return fail(EINVAL);
		b->length = cam.bpl * cam.height;
		b->m.offset = b->index << 20;
		if (req == VIDIOC_QBUF) {
			if (cam.queued[b->index])
				return fail(EINVAL);
			cam.queued[b->index] = true;
			cam.qorder[(cam.qhead + cam.qlen++) % NBUF] = b->index;
		}
		return 0;
	}
	case VIDIOC_DQBUF: {
		struct v4l2_buffer *b = arg;
		uint64_t ticks;
		struct timespec ts;
		unsigned i;
		int64_t us;

		if (unplugged())
			return fail(ENODEV);
		if (getenv("FAKE_V4L2_FREEZE") != NULL && access(getenv("FAKE_V4L2_FREEZE"), F_OK) == 0) {
			(void)read(cam.fd, &ticks, sizeof(ticks));
			return fail(EAGAIN);
		}
		if (!cam.streaming || cam.qlen == 0 || read(cam.fd, &ticks, sizeof(ticks)) < 0)
			return fail(EAGAIN);
		i = cam.qorder[cam.qhead];
		cam.qhead = (cam.qhead + 1) % NBUF;
		cam.qlen--;
		cam.queued[i] = false;
		fill(cam.buf[i], cam.seq);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - 5000;
		memset(b, 0, sizeof(*b));
		b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b->memory = V4L2_MEMORY_MMAP;
		b->index = i;
		b->bytesused = cam.bpl * cam.height;
		b->length = b->bytesused;
		b->sequence = cam.seq++;
		b->flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
		b->timestamp.tv_sec = us / 1000000;
		b->timestamp.tv_usec = us % 1000000;
		return 0;
	}
	case VIDIOC_STREAMON:
		cam.streaming = true;
		arm();
		note("streamon %ux%u", cam.width, cam.height);
		return 0;
	case VIDIOC_STREAMOFF:
		cam.streaming = false;
		return 0;
	default:
		return fail(ENOTTY);
	}
}

int
v4l2_ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != cam.fd || fd < 0) {
		if (real == NULL)
			real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "v4l2_ioctl");
		return real(fd, req, arg);
	}
	return ioctl_fake(req, arg);
}
