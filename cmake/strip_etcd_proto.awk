# Strips the Go-only options (gogoproto) and HTTP gateway annotations
# (google.api.http) from etcd's .proto files, so protoc can generate C++ from
# them without those dependencies. Messages, fields and services are kept
# as they are.
/^import "gogoproto\// { next }
/^import "google\/api\// { next }
/^option \(gogoproto\./ { next }
/option \(google\.api\.http\)/ { skip = 1 }
skip { if ($0 ~ /};/) skip = 0; next }
{ gsub(/ *\[\(gogoproto\.[^\]]*\]/, ""); print }
