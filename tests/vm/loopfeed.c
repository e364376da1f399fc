/*
 * loopfeed: plays a file of YUYV frames into a v4l2loopback device, as a
 * camera would deliver them, until killed.  Runs in the VM system test's
 * guest.
 *
 * Usage: loopfeed /dev/videoN FRAMES.yuyv WIDTH HEIGHT FPS
 * The file is replayed from its start when it ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct v4l2_format fmt;
	struct timespec ts;
	unsigned char *buf;
	size_t size;
	FILE *in;
	int fd, w, h, fps;

	if (argc != 6) {
		fprintf(stderr, "usage: loopfeed /dev/videoN FRAMES.yuyv WIDTH HEIGHT FPS\n");
		return 2;
	}
	w = atoi(argv[3]);
	h = atoi(argv[4]);
	fps = atoi(argv[5]);
	if (w <= 0 || h <= 0 || fps <= 0)
		return 2;
	size = (size_t)w * h * 2;
	if ((buf = malloc(size)) == NULL)
		return 1;
	if ((fd = open(argv[1], O_RDWR)) < 0) {
		fprintf(stderr, "loopfeed: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* The writer sets the format the readers will see. */
	memset(&fmt, 0, sizeof(fmt));
	fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
	fmt.fmt.pix.width = w;
	fmt.fmt.pix.height = h;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	fmt.fmt.pix.field = V4L2_FIELD_NONE;
	fmt.fmt.pix.bytesperline = w * 2;
	fmt.fmt.pix.sizeimage = size;
	fmt.fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
	if (ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) {
		fprintf(stderr, "loopfeed: VIDIOC_S_FMT: %s\n", strerror(errno));
		return 1;
	}
	if ((in = fopen(argv[2], "rb")) == NULL) {
		fprintf(stderr, "loopfeed: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000000L / fps;
	for (;;) {
		if (fread(buf, size, 1, in) != 1) {
			rewind(in);
			if (fread(buf, size, 1, in) != 1) {
				fprintf(stderr, "loopfeed: %s: no whole frame\n", argv[2]);
				return 1;
			}
		}
		if (write(fd, buf, size) != (ssize_t)size) {
			fprintf(stderr, "loopfeed: write: %s\n", strerror(errno));
			return 1;
		}
		nanosleep(&ts, NULL);
	}
}
