# Installs the Tessera CMake package: TesseraConfig.cmake, its version file
# and TesseraTargets.cmake for the targets installed with EXPORT
# TesseraTargets (Tessera::runtime always, Tessera::compiler when the
# compiler is built). Included by the top-level project and by a standalone
# runtime build (cmake -S runtime).
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)
if(NOT TESSERA_PYTHON_INSTALL_DIR)
  set(TESSERA_PYTHON_INSTALL_DIR lib/python3/dist-packages)
endif()
set(_tsr_pkg_dir lib/cmake/Tessera)
install(EXPORT TesseraTargets NAMESPACE Tessera:: DESTINATION ${_tsr_pkg_dir})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/TesseraConfig.cmake.in
  ${PROJECT_BINARY_DIR}/TesseraConfig.cmake
  INSTALL_DESTINATION ${_tsr_pkg_dir}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_BINDIR
            TESSERA_PYTHON_INSTALL_DIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/TesseraConfig.cmake
              ${PROJECT_BINARY_DIR}/TesseraConfigVersion.cmake
        DESTINATION ${_tsr_pkg_dir})
