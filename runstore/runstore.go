// Package runstore reads and writes the files of a run folder that is
// either a local directory or a bucket shared by many machines
// (gocloud.dev/blob: file:// and mem:// always, mem://name being one
// in-memory bucket per name for the whole process; s3://, gs:// and
// azblob:// in a build with -tags cloud, as the container image is built,
// since their SDKs triple the build time of the module).
// The shards of a sharded run (pipeline.RunShard, pipeline.Merge) exchange
// their embeddings and scores through it.
package runstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"
)

// Store is one run folder. Keys are slash-separated paths inside it.
type Store struct {
	loc    string
	local  string // the directory, for a local store; "" for a bucket
	bucket *blob.Bucket
	shared bool // a process-wide mem:// bucket: Close leaves it open
}

var (
	memMu      sync.Mutex
	memBuckets = map[string]*blob.Bucket{}
)

// memBucket is the process's in-memory bucket of that name.
func memBucket(name string) *blob.Bucket {
	memMu.Lock()
	defer memMu.Unlock()
	b := memBuckets[name]
	if b == nil {
		b = memblob.OpenBucket(nil)
		memBuckets[name] = b
	}
	return b
}

// IsURL reports whether loc names a bucket (scheme://...) rather than a
// local directory. A Windows drive letter is not a scheme.
func IsURL(loc string) bool {
	i := strings.Index(loc, "://")
	return i > 1
}

// Open opens loc: a local directory (created when missing) or a bucket URL
// whose path is a prefix inside the bucket, e.g. s3://bucket/runs/r1?region=eu-west-1.
func Open(ctx context.Context, loc string) (*Store, error) {
	if !IsURL(loc) || strings.HasPrefix(loc, "file://") {
		dir := loc
		if strings.HasPrefix(loc, "file://") {
			u, err := url.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("run folder %s: %w", loc, err)
			}
			dir = filepath.FromSlash(u.Path)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("run folder %s: %w", loc, err)
		}
		b, err := fileblob.OpenBucket(abs, &fileblob.Options{CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
		if err != nil {
			return nil, fmt.Errorf("run folder %s: %w", loc, err)
		}
		return &Store{loc: loc, local: abs, bucket: b}, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", loc, err)
	}
	prefix := strings.Trim(u.Path, "/")
	u.Path = ""
	if u.Scheme == "mem" {
		// One in-memory bucket per name for the whole process, so that
		// stores opened one after the other (the shards of a test) share it.
		b := memBucket(u.Host)
		if prefix != "" {
			b = blob.PrefixedBucket(b, prefix+"/")
		}
		return &Store{loc: loc, bucket: b, shared: true}, nil
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		if !cloudDrivers && u.Scheme != "mem" {
			return nil, fmt.Errorf("run folder %s: %w (this anomclust was built without the cloud drivers: go install -tags cloud ./cmd/anomclust, or use the container image)", loc, err)
		}
		return nil, fmt.Errorf("run folder %s: %w", loc, err)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix+"/")
	}
	return &Store{loc: loc, bucket: b}, nil
}

// Location is the loc Open was given.
func (s *Store) Location() string { return s.loc }

// LocalDir is the directory of a local store, "" for a bucket.
func (s *Store) LocalDir() string { return s.local }

// Close releases the bucket (a mem:// bucket stays in memory for the
// process's other stores of it).
func (s *Store) Close() error {
	if s.shared {
		return nil
	}
	return s.bucket.Close()
}

// Write stores data under key. Readers see the whole value or nothing:
// buckets write objects atomically, and the local store writes a temp file
// beside the target and renames it.
func (s *Store) Write(ctx context.Context, key string, data []byte) error {
	if err := s.bucket.WriteAll(ctx, key, data, nil); err != nil {
		return fmt.Errorf("write %s in %s: %w", key, s.loc, err)
	}
	return nil
}

// Read returns the value under key; a missing key gives an error that
// matches fs.ErrNotExist.
func (s *Store) Read(ctx context.Context, key string) ([]byte, error) {
	b, err := s.bucket.ReadAll(ctx, key)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("read %s in %s: %w", key, s.loc, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("read %s in %s: %w", key, s.loc, err)
	}
	return b, nil
}

// Exists reports whether key is present.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("stat %s in %s: %w", key, s.loc, err)
	}
	return ok, nil
}

// List returns the keys under prefix (recursively), sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("list %s in %s: %w", prefix, s.loc, err)
		}
		if !o.IsDir {
			keys = append(keys, o.Key)
		}
	}
	return keys, nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return fmt.Errorf("delete %s in %s: %w", key, s.loc, err)
	}
	return nil
}
