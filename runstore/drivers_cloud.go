//go:build cloud

package runstore

import (
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://
)

// cloudDrivers: this build opens s3://, gs:// and azblob:// buckets.
const cloudDrivers = true
