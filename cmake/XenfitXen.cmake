# SPDX-License-Identifier: LGPL-2.1-only
# The real-Xen backend's configuration: finds libxenctrl (Debian: libxen-dev)
# and the optional calls of its headers. Sets
#   XF_HAVE_LIBXENCTRL      ON when the backend is built (a global, internal cache entry)
#   XF_XEN_DEFINITIONS      compile definitions for the backend's sources
#   XF_XEN_C_OPTIONS        compile options for them: xenctrl.h is GNU C
#   target xf_xenctrl       what to link
# XF_WITH_XEN: AUTO (build it when found), ON (fail when not found), OFF.
include_guard(GLOBAL)
include(CheckSymbolExists)
include(CheckCSourceCompiles)
include(CMakePushCheckState)

set(XF_WITH_XEN AUTO CACHE STRING "Build the real-Xen backend over libxenctrl (AUTO, ON, OFF)")
set_property(CACHE XF_WITH_XEN PROPERTY STRINGS AUTO ON OFF)
if(NOT XF_WITH_XEN MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "XF_WITH_XEN must be AUTO, ON or OFF, not '${XF_WITH_XEN}'")
endif()

set(XF_HAVE_LIBXENCTRL OFF)
set(XF_XEN_DEFINITIONS "")
set(XF_XEN_C_OPTIONS -std=gnu11)
if(NOT XF_WITH_XEN STREQUAL "OFF")
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(XENCTRL QUIET IMPORTED_TARGET xencontrol)
  endif()
  if(XENCTRL_FOUND)
    add_library(xf_xenctrl INTERFACE)
    target_link_libraries(xf_xenctrl INTERFACE PkgConfig::XENCTRL)
    set(_xf_xen_inc ${XENCTRL_INCLUDE_DIRS})
    set(_xf_xen_lib ${XENCTRL_LINK_LIBRARIES})
  else()
    # Older packagings ship no xencontrol.pc.
    find_path(XENCTRL_INCLUDE_DIR xenctrl.h)
    find_library(XENCTRL_LIBRARY xenctrl)
    if(XENCTRL_INCLUDE_DIR AND XENCTRL_LIBRARY)
      add_library(xf_xenctrl INTERFACE)
      target_include_directories(xf_xenctrl INTERFACE ${XENCTRL_INCLUDE_DIR})
      target_link_libraries(xf_xenctrl INTERFACE ${XENCTRL_LIBRARY})
      set(XENCTRL_FOUND ON)
      set(_xf_xen_inc ${XENCTRL_INCLUDE_DIR})
      set(_xf_xen_lib ${XENCTRL_LIBRARY})
    endif()
  endif()

  if(XENCTRL_FOUND)
    cmake_push_check_state(RESET)
    set(CMAKE_REQUIRED_INCLUDES ${_xf_xen_inc})
    set(CMAKE_REQUIRED_LIBRARIES ${_xf_xen_lib})
    set(CMAKE_REQUIRED_QUIET ON)
    # xenctrl.h needs GNU C (anonymous unions in xen/hvm/save.h); the try
    # compiles follow CMAKE_C_EXTENSIONS, restored below.
    set(_xf_c_extensions ${CMAKE_C_EXTENSIONS})
    set(CMAKE_C_EXTENSIONS ON)
    check_symbol_exists(xc_domain_claim_pages xenctrl.h HAVE_XC_DOMAIN_CLAIM_PAGES)
    if(NOT HAVE_XC_DOMAIN_CLAIM_PAGES)
      message(WARNING "libxenctrl lacks xc_domain_claim_pages (Xen < 4.3): no real-Xen backend")
    else()
      set(XF_HAVE_LIBXENCTRL ON)
      # Xen 4.17 added the paging-pool domctls; before, the shadow domctl.
      check_symbol_exists(xc_get_paging_mempool_size xenctrl.h HAVE_XC_GET_PAGING_MEMPOOL_SIZE)
      check_symbol_exists(xc_set_paging_mempool_size xenctrl.h HAVE_XC_SET_PAGING_MEMPOOL_SIZE)
      # Node claims and per-node claimed memory: XenServer's patched Xen
      # (the calls xen-api's ocaml/libs/xenctrl-ext/xenctrlext_stubs.c makes).
      check_c_source_compiles("
        #include <xenctrl.h>
        int main(void) {
            return xc_domain_claim_pages_node((xc_interface *)0, 1u, 0u, 1ul);
        }" HAVE_XC_DOMAIN_CLAIM_PAGES_NODE)
      check_c_source_compiles("
        #include <xenctrl.h>
        int main(void) {
            xen_sysctl_node_meminfo_t m[1];
            unsigned int n = 1;
            m[0].claimed = 0;
            return xc_numa_meminfo((xc_interface *)0, &n, m) + (int)m[0].claimed;
        }" HAVE_XC_NUMA_MEMINFO)
      # Ballooning reads and writes xenstore (squeezed's keys): libxenstore,
      # Debian libxen-dev too. Without it the balloon operations are ENOSYS.
      if(PKG_CONFIG_FOUND)
        pkg_check_modules(XENSTORE QUIET IMPORTED_TARGET xenstore)
      endif()
      if(XENSTORE_FOUND)
        set(HAVE_LIBXENSTORE ON)
        target_link_libraries(xf_xenctrl INTERFACE PkgConfig::XENSTORE)
      endif()
      foreach(_d HAVE_LIBXENSTORE HAVE_XC_GET_PAGING_MEMPOOL_SIZE HAVE_XC_SET_PAGING_MEMPOOL_SIZE
                 HAVE_XC_DOMAIN_CLAIM_PAGES_NODE HAVE_XC_NUMA_MEMINFO)
        if(${_d})
          list(APPEND XF_XEN_DEFINITIONS ${_d}=1)
        endif()
      endforeach()
    endif()
    set(CMAKE_C_EXTENSIONS ${_xf_c_extensions})
    cmake_pop_check_state()
  endif()

  if(NOT XF_HAVE_LIBXENCTRL AND XF_WITH_XEN STREQUAL "ON")
    message(FATAL_ERROR "XF_WITH_XEN=ON but libxenctrl was not found (Debian: apt-get install libxen-dev)")
  endif()
endif()

# Visible in every directory (tests/xen builds its programs only with it).
set(XF_HAVE_LIBXENCTRL ${XF_HAVE_LIBXENCTRL} CACHE INTERNAL "the real-Xen backend is built")
if(XF_HAVE_LIBXENCTRL)
  message(STATUS "real-Xen backend: yes (${XF_XEN_DEFINITIONS})")
else()
  message(STATUS "real-Xen backend: no (XF_WITH_XEN=${XF_WITH_XEN}; needs libxen-dev)")
endif()
