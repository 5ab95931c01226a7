//go:build !cloud

package runstore

// cloudDrivers: this build opens only file:// and mem:// locations (build
// with -tags cloud for s3://, gs://, azblob://).
const cloudDrivers = false
