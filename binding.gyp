{
  "targets": [
    {
      "target_name": "blocking_socket",
      "sources": ["native/blocking_socket.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
