package main

import (
	"flag"
	"io"
	"os"

	"github.com/anomclust/anomclust/pipeline"
	"golang.org/x/term"
)

// shardFlags are run's flags of a sharded run (README: "Many machines"):
// --stage embed|score and --shard i/n.
type shardFlags struct {
	stage, shard *string
}

func addShardFlags(fs *flag.FlagSet) *shardFlags {
	return &shardFlags{
		stage: fs.String("stage", "", "run one stage of a sharded run: embed (patch embeddings of this shard's images) or score (patch scores of this shard's images, after every embed shard); --out is then the run folder every shard shares, a local folder or a bucket URL (s3://, gs://, azblob:// in a build with -tags cloud), and anomclust merge --out finishes the run"),
		shard: fs.String("shard", "", "with --stage: this machine's shard i/n, i from 0 (e.g. $(JOB_COMPLETION_INDEX)/8); default 0/1"),
	}
}

// active reports whether a stage was asked for; a --shard without a
// --stage is a usage error.
func (s *shardFlags) active(fs *flag.FlagSet) (bool, error) {
	if *s.stage == "" {
		if *s.shard != "" {
			return false, usageError(fs, "--shard %s needs --stage embed or --stage score", *s.shard)
		}
		return false, nil
	}
	return true, nil
}

// runStage runs one shard of one stage.
func runStage(o pipeline.Options, s *shardFlags, stderr io.Writer) error {
	sh := pipeline.Shard{I: 0, N: 1}
	if *s.shard != "" {
		var err error
		if sh, err = pipeline.ParseShard(*s.shard); err != nil {
			return err
		}
	}
	o.Version = version
	o.Log = stderr
	o.Progress = progressWriter(stderr)
	ctx, stop := signalContext("run")
	defer stop()
	return pipeline.RunShard(ctx, o, *s.stage, sh)
}

// progressWriter is stderr for progress bars on a terminal, else a line
// every few seconds.
func progressWriter(stderr io.Writer) io.Writer {
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return stderr
	}
	return newLineProgress(stderr, progressEvery)
}
