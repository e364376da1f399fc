# lib/image: JPEG of grey images through libjpeg (jpeg.h says why not OpenCV's).
noinst_LTLIBRARIES += lib/image/libimage.la
lib_image_libimage_la_SOURCES = lib/image/jpeg.h lib/image/jpeg.c
lib_image_libimage_la_CPPFLAGS = $(AM_CPPFLAGS) $(JPEG_CFLAGS)
lib_image_libimage_la_LIBADD = $(JPEG_LIBS)
IMAGE_LIBS = lib/image/libimage.la $(JPEG_LIBS)

check_PROGRAMS += tests/unit/test-image
tests_unit_test_image_SOURCES = tests/unit/test-image.c
tests_unit_test_image_LDADD = $(TEST_LIBS) $(IMAGE_LIBS)
tests_unit_test_image_CPPFLAGS = $(TEST_CPPFLAGS) $(JPEG_CFLAGS)
TESTS += tests/unit/test-image
