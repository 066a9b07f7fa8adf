{
  # One build system: node-gyp. One exception mode for node-addon-api:
  # C++ exceptions are disabled (NAPI_DISABLE_CPP_EXCEPTIONS); errors are
  # thrown as JavaScript errors via Napi::Error::ThrowAsJavaScriptException.
  "targets": [
    {
      "target_name": "redloop",
      "sources": ["native/redloop.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
