#!/usr/bin/python3
"""Write an NMEA log for gpsfake: a patrol car driving north-east from
Sacramento at about 15 m/s, one GGA and one RMC sentence per second, with
today's date (gpsd's week-rollover logic mistrusts old dates).

Usage: nmea.py OUT SECONDS
"""
import datetime
import functools
import sys


def sentence(body):
    ck = functools.reduce(lambda a, c: a ^ ord(c), body, 0)
    return '$%s*%02X\r\n' % (body, ck)


def dm(deg, width):
    d = int(deg)
    return '%0*d%07.4f' % (width, d, (deg - d) * 60)


def main():
    out, seconds = sys.argv[1], int(sys.argv[2])
    t0 = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    lines = []
    for i in range(seconds):
        t = t0 + datetime.timedelta(seconds=i)
        lat, lon = 38.5816 + i * 0.0001, 121.4944 - i * 0.0001
        hms = t.strftime('%H%M%S') + '.00'
        lines.append(sentence('GPGGA,%s,%s,N,%s,W,1,08,0.9,9.0,M,-28.0,M,,'
                              % (hms, dm(lat, 2), dm(lon, 3))))
        lines.append(sentence('GPRMC,%s,A,%s,N,%s,W,029.2,045.0,%s,,'
                              % (hms, dm(lat, 2), dm(lon, 3), t.strftime('%d%m%y'))))
    with open(out, 'w', newline='') as f:
        f.write(''.join(lines))


main()
