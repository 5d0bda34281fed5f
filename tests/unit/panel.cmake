# The SDL2 panel rendered headless: pixel properties of known states.
if(TARGET bench_panel)
  bms_unit_test(NAME test_panel_render
                SOURCES ${PROJECT_SOURCE_DIR}/tests/unit/test_panel_render.c
                LIBS bench_panel)
  set_tests_properties(unit.test_panel_render PROPERTIES ENVIRONMENT "SDL_VIDEODRIVER=dummy")
endif()
