# Report writers: SVG charts, the HTML page, and the page checked as XML.
bms_unit_test(NAME test_svg_chart SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_svg_chart.c
              LIBS bench_reports)
bms_unit_test(NAME test_html_report SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_html_report.c
              LIBS bench_reports)
