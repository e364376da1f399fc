/*
 * render-frames: synthetic camera frames of passing cars for the VM system
 * test.  Runs on the host; its output is fed to v4l2loopback in the guest.
 *
 * Usage: render-frames OUT.yuyv WIDTH HEIGHT PLATE...
 * A PLATE is a picture of a plate (PNG, as tests/data/plates has) or, if no
 * such file exists, a plate number to draw.  Each plate passes the frame
 * on a car body over a few frames, then the road is empty for a few
 * frames, so a tracker sees one vehicle per plate.  Frames are YUYV 4:2:2,
 * WIDTH*HEIGHT*2 bytes each, back to back.
 */
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <unistd.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

static const int frames_per_car = 12;
static const int empty_frames = 6;

static cv::Mat
plate_image(const char *arg)
{
	cv::Mat img;

	if (access(arg, R_OK) == 0 && !(img = cv::imread(arg, cv::IMREAD_COLOR)).empty())
		return img;
	/* Draw the number: black on a white plate (2:1) with a dark border. */
	img = cv::Mat(120, 240, CV_8UC3, cv::Scalar(245, 245, 245));
	cv::rectangle(img, cv::Rect(2, 2, 236, 116), cv::Scalar(40, 40, 40), 3);
	int base = 0;
	cv::Size sz = cv::getTextSize(arg, cv::FONT_HERSHEY_DUPLEX, 1.0, 3, &base);
	double fs = std::min(200.0 / sz.width, 60.0 / sz.height);
	sz = cv::getTextSize(arg, cv::FONT_HERSHEY_DUPLEX, fs, 3, &base);
	cv::putText(img, arg, cv::Point((240 - sz.width) / 2, (120 + sz.height) / 2),
	    cv::FONT_HERSHEY_DUPLEX, fs, cv::Scalar(20, 20, 20), 3, cv::LINE_AA);
	return img;
}

/* BGR to packed YUYV (BT.601, as V4L2 cameras deliver). */
static void
write_yuyv(FILE *out, const cv::Mat &bgr)
{
	cv::Mat yuv;
	std::vector<unsigned char> row(bgr.cols * 2);

	cv::cvtColor(bgr, yuv, cv::COLOR_BGR2YUV);
	for (int y = 0; y < yuv.rows; y++) {
		const cv::Vec3b *p = yuv.ptr<cv::Vec3b>(y);
		for (int x = 0; x + 1 < yuv.cols; x += 2) {
			row[x * 2 + 0] = p[x][0];
			row[x * 2 + 1] = (p[x][1] + p[x + 1][1]) / 2;
			row[x * 2 + 2] = p[x + 1][0];
			row[x * 2 + 3] = (p[x][2] + p[x + 1][2]) / 2;
		}
		fwrite(row.data(), 1, row.size(), out);
	}
}

static cv::Mat
road(int w, int h)
{
	cv::Mat m(h, w, CV_8UC3, cv::Scalar(70, 72, 75));

	/* Lane markings, so the empty road is not a flat field. */
	for (int x = 0; x < w; x += 80)
		cv::rectangle(m, cv::Rect(x, h - 40, 40, 8), cv::Scalar(200, 200, 200), cv::FILLED);
	return m;
}

int
main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: render-frames OUT.yuyv WIDTH HEIGHT PLATE...\n");
		return 2;
	}
	int w = atoi(argv[2]), h = atoi(argv[3]);
	FILE *out = fopen(argv[1], "wb");
	if (out == NULL || w < 320 || h < 240 || w % 2) {
		perror(argv[1]);
		return 1;
	}
	for (int i = 4; i < argc; i++) {
		cv::Mat plate = plate_image(argv[i]);
		/* A quarter of the frame wide (160 px at 640: half the rendered
		 * plate, the size frame-peer gives alpr-ocrd's own tests), as a
		 * car a few metres away.  At a fifth the recognizer misread most
		 * plates. */
		double scale = (w / 4.0) / plate.cols;
		cv::resize(plate, plate, cv::Size(), scale, scale, cv::INTER_AREA);
		cv::Scalar body((i * 53) % 200 + 30, (i * 97) % 200 + 30, (i * 31) % 200 + 30);
		for (int f = 0; f < frames_per_car; f++) {
			cv::Mat m = road(w, h);
			int cw = plate.cols * 3, ch = plate.rows * 4;
			int cx = w / 2 - cw / 2 + (f - frames_per_car / 2) * (w / 60);
			int cy = h / 2 - ch / 2;
			cv::Rect car(cx, cy, cw, ch);
			car &= cv::Rect(0, 0, w, h);
			cv::rectangle(m, car, body, cv::FILLED);
			cv::Rect pr(cx + cw / 2 - plate.cols / 2, cy + ch - plate.rows - ch / 8,
			    plate.cols, plate.rows);
			if ((pr & cv::Rect(0, 0, w, h)) == pr)
				plate.copyTo(m(pr));
			write_yuyv(out, m);
			/* A look at what the camera sees, for whoever debugs. */
			if (f == frames_per_car / 2 && getenv("RENDER_PREVIEW") != NULL) {
				char path[4096];
				snprintf(path, sizeof(path), "%s-%d.png", getenv("RENDER_PREVIEW"), i - 3);
				cv::imwrite(path, m);
			}
		}
		for (int f = 0; f < empty_frames; f++)
			write_yuyv(out, road(w, h));
	}
	if (fclose(out) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
