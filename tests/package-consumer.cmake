# Installs the built glassbox into a scratch prefix, then, as a user's project would with
# find_package(glassbox):
#  1. checks every installed header includes only the standard library, LibTorch and installed glassbox
#     headers (a header that needs a package the consumer may not have fails here, on any machine);
#  2. compiles a translation unit per installed header, each including that header alone;
#  3. builds and runs examples/consumer and examples/explain-photo (a photograph explained through the
#     TorchScript fixture and its model.json; the figure must be a PNG).
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
set(include_dir ${WORK_DIR}/prefix/include)

# 1. What each installed header includes.
file(GLOB_RECURSE headers RELATIVE ${include_dir} ${include_dir}/glassbox/*.h)
list(LENGTH headers count)
if(count LESS 20)
  message(FATAL_ERROR "only ${count} headers installed under ${include_dir}")
endif()
set(allowed_system "^(ATen|c10|torch)/|^[a-z_]+$")  # LibTorch, or a standard header (<vector>, <cstdint>)
foreach(h ${headers})
  file(STRINGS ${include_dir}/${h} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    if(line MATCHES "#[ \t]*include[ \t]*<([^>]+)>")
      if(NOT CMAKE_MATCH_1 MATCHES "${allowed_system}")
        message(FATAL_ERROR "${h} includes <${CMAKE_MATCH_1}>, which a consumer of the package may not have")
      endif()
    elseif(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
      if(NOT EXISTS ${include_dir}/${CMAKE_MATCH_1})
        message(FATAL_ERROR "${h} includes \"${CMAKE_MATCH_1}\", which is not installed")
      endif()
    endif()
  endforeach()
endforeach()

# 2. One translation unit per header, each alone.
set(tu_dir ${WORK_DIR}/headers)
set(sources "")
foreach(h ${headers})
  string(REPLACE "/" "_" stem ${h})
  file(WRITE ${tu_dir}/${stem}.cpp "#include \"${h}\"\n#include \"${h}\"  // and twice: include guards\n")
  list(APPEND sources ${stem}.cpp)
endforeach()
string(REPLACE ";" " " sources_text "${sources}")
file(WRITE ${tu_dir}/CMakeLists.txt "cmake_minimum_required(VERSION 3.18)
project(glassbox_headers LANGUAGES CXX)
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER \"\${CCACHE_PROGRAM}\")
endif()
find_package(glassbox REQUIRED)
add_library(headers OBJECT ${sources_text})
target_link_libraries(headers PRIVATE glassbox::glassbox)
set_target_properties(headers PROPERTIES CXX_STANDARD 17)
target_compile_options(headers PRIVATE -Werror=return-type)
")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${tu_dir} -B ${tu_dir}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
                        -DCMAKE_BUILD_TYPE=Release RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the header check failed: ${rc}")
endif()
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${tu_dir}/build -j${cores} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "a public header does not compile alone:\n${out}")
endif()
message("${count} installed headers compile alone")

# 3. The examples.
foreach(example consumer explain-photo)
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/${example} -B ${WORK_DIR}/${example}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "configuring examples/${example} failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/${example} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "building examples/${example} failed: ${rc}")
  endif()
endforeach()
execute_process(COMMAND ${WORK_DIR}/consumer/consumer RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "logits \\[2, 10\\]")
  message(FATAL_ERROR "the consumer did not run as expected: ${rc}")
endif()
set(photo /usr/lib/python3/dist-packages/skimage/data/astronaut.png)
execute_process(COMMAND ${WORK_DIR}/explain-photo/explain-photo ${SOURCE_DIR}/data/models/resnet18.pt ${photo}
                        ${WORK_DIR}/astronaut-gradcam.png
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "astronaut.png: sees [0-9]+ \\(p 0\\.[0-9]+\\); Grad-CAM in")
  message(FATAL_ERROR "explain-photo did not run as expected: ${rc}")
endif()
file(READ ${WORK_DIR}/astronaut-gradcam.png signature LIMIT 8 HEX)
if(NOT signature STREQUAL "89504e470d0a1a0a")
  message(FATAL_ERROR "explain-photo's figure is not a PNG (${signature})")
endif()
