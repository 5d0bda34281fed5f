# SPDX-License-Identifier: MIT
# Balancer-bus BMS controller (devicplan-style 300 baud ASCII bus) sources of gw_core.
target_sources(gw_core PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/balancer/balancer_bus.c
  ${CMAKE_CURRENT_SOURCE_DIR}/balancer/balancer_protect.c
  ${CMAKE_CURRENT_SOURCE_DIR}/balancer/balancer_driver.c)
