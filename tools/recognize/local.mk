# tools/recognize: alpr-recognize (issue 4).
