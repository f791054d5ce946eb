package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/backup"
	"github.com/casare/casare/pki"
)

const snapshotKeyHelp = `The key file holds 32 random bytes in standard base64 (44 characters and a
newline). Make one with 'casare operator snapshot keygen FILE' or with
'openssl rand -base64 32 > FILE', and keep it away from the snapshots: the
file holds the vault keys and the cluster CA key, sealed with AES-256-GCM
under this key, and whoever holds both can open every secret.`

func newSnapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Back up the whole cluster state to an encrypted file, and restore one",
		Long: `Back up the whole cluster state to an encrypted file, and restore one.

A snapshot holds everything Raft replicates (workflows with their versions,
schedules, jobs, robot and API tokens, sealed secrets, robots) plus the vault
keys that open the secrets and the cluster CA. It is read consistently from
any server and checked (AES-256-GCM) as a whole: a truncated, corrupted or
wrongly keyed file is refused before anything changes.

` + snapshotKeyHelp,
	}
	cmd.AddCommand(newSnapshotKeygenCmd(), newSnapshotSaveCmd(), newSnapshotRestoreCmd(), newSnapshotInspectCmd(), newSnapshotCACmd())
	return cmd
}

func newSnapshotKeygenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keygen FILE",
		Short: "Write a new snapshot key file (32 random bytes, base64, mode 0600)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := backup.NewKey()
			if err != nil {
				return err
			}
			f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("write key file (an existing one is never replaced): %w", err)
			}
			if _, err := f.Write(backup.EncodeKey(key)); err != nil {
				f.Close()
				return fmt.Errorf("write key file %s: %w", args[0], err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("write key file %s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote snapshot key %s\n", args[0])
			return err
		},
	}
}

// readKeyFile reads and checks a snapshot key file.
func readKeyFile(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("--key-file is required: " + "make one with `casare operator snapshot keygen FILE`")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	key, err := backup.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return key, nil
}

func newSnapshotSaveCmd() *cobra.Command {
	var flags *clientFlags
	var keyFile string
	cmd := &cobra.Command{
		Use:   "save FILE --key-file KEY",
		Short: "Save the whole cluster state, encrypted with the key, to FILE",
		Long:  "Save the whole cluster state to FILE, read consistently on the server asked.\nThe server seals it with the key; the CLI then opens it to check it.\n\n" + snapshotKeyHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			key, err := readKeyFile(keyFile)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if _, err := newClient(cmd, flags.server).SaveSnapshot(cmd.Context(), string(backup.EncodeKey(key)), &buf); err != nil {
				return callError("save snapshot", flags.server, err)
			}
			c, err := backup.Open(buf.Bytes(), key)
			if err != nil {
				return fmt.Errorf("the snapshot the server sent does not open (nothing written): %w", err)
			}
			if err := writeFileAtomic(args[0], buf.Bytes()); err != nil {
				return err
			}
			info := snapshotInfo(c)
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), info)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "saved %s (%d bytes): state of %s at index %d\n", args[0], buf.Len(), c.Node, c.Index)
			printSnapshotCounts(w, info.Counts)
			return nil
		},
	}
	flags = addClientFlags(cmd)
	cmd.Flags().StringVar(&keyFile, "key-file", "", "file holding the snapshot key (base64 of 32 bytes)")
	return cmd
}

func newSnapshotRestoreCmd() *cobra.Command {
	var flags *clientFlags
	var keyFile string
	cmd := &cobra.Command{
		Use:   "restore FILE --key-file KEY",
		Short: "Replace the whole cluster state with FILE's, on every server",
		Long: `Replace the whole cluster state with the snapshot's, on every server.

The cluster's own servers stay as they are; everything else (workflows,
schedules, jobs, tokens, secrets, robots) becomes the snapshot's, and the
snapshot's vault keys are added on every server so that its secrets open.
API tokens of the snapshot's cluster work from then on, and the ones made
here since are gone. The leader restores; the CLI asks it through any
server. It prints what it replaced.

` + snapshotKeyHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			snap, err := openSnapshotFile(args[0], keyFile)
			if err != nil {
				return fmt.Errorf("%w; nothing changed", err)
			}
			resp, err := newClient(cmd, flags.server).RestoreSnapshot(cmd.Context(), string(backup.EncodeKey(snap.key)), snap.file)
			if err != nil {
				return callError("restore snapshot", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			printRestore(cmd.OutOrStdout(), resp)
			return nil
		},
	}
	flags = addClientFlags(cmd)
	cmd.Flags().StringVar(&keyFile, "key-file", "", "file holding the snapshot key (base64 of 32 bytes)")
	return cmd
}

func newSnapshotInspectCmd() *cobra.Command {
	var keyFile, output string
	cmd := &cobra.Command{
		Use:   "inspect FILE --key-file KEY",
		Short: "Check a snapshot file and say what it holds (offline)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			snap, err := openSnapshotFile(args[0], keyFile)
			if err != nil {
				return err
			}
			c := snap.contents
			info := snapshotInfo(c)
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), info)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "snapshot of %s at index %d, taken %s\n", info.Node, info.Index, info.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
			if info.CAFingerprint != "" {
				fmt.Fprintf(w, "cluster CA %s\n", info.CAFingerprint)
			}
			printSnapshotCounts(w, info.Counts)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "file holding the snapshot key (base64 of 32 bytes)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newSnapshotCACmd() *cobra.Command {
	var keyFile, dataDir string
	cmd := &cobra.Command{
		Use:   "ca FILE --key-file KEY --data-dir DIR",
		Short: "Put the snapshot's cluster CA into the data dir of a new cluster's first server",
		Long: `Put the snapshot's cluster CA (certificate and key) into DIR/tls before the
first start of a new cluster's first server. 'casare node start --data-dir DIR'
then keeps that CA instead of making one, so robots and robot tokens that pin
the old cluster's CA fingerprint trust the new cluster. Refused when DIR
already holds a node certificate (the node has started before).

` + snapshotKeyHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dataDir == "" {
				return errors.New("--data-dir is required: the data dir of the server that will bootstrap the new cluster")
			}
			snap, err := openSnapshotFile(args[0], keyFile)
			if err != nil {
				return err
			}
			c := snap.contents
			if len(c.CACert) == 0 || len(c.CAKey) == 0 {
				return fmt.Errorf("snapshot %s holds no cluster CA with its key (it was saved from a node without one)", args[0])
			}
			cert, err := pki.DecodeCert(c.CACert)
			if err != nil {
				return fmt.Errorf("snapshot %s: CA certificate: %w", args[0], err)
			}
			caKey, err := pki.DecodeKey(c.CAKey)
			if err != nil {
				return fmt.Errorf("snapshot %s: CA key: %w", args[0], err)
			}
			paths := pki.PathsIn(dataDir)
			if paths.Exists() {
				return fmt.Errorf("%s already holds a node certificate: the CA goes in before a server's first start only", dataDir)
			}
			if err := paths.SaveCA(&pki.CA{Cert: cert, Key: caKey}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote cluster CA %s to %s\n", pki.Fingerprint(cert), paths.Dir)
			return err
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "file holding the snapshot key (base64 of 32 bytes)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "data dir of the new cluster's first server, before its first start")
	return cmd
}

// snapshotFile is a snapshot file read, checked and opened.
type snapshotFile struct {
	key, file []byte
	contents  backup.Contents
}

// openSnapshotFile reads the key file and the snapshot and opens it, so
// that a bad file is refused before any request is made.
func openSnapshotFile(path, keyFile string) (snapshotFile, error) {
	key, err := readKeyFile(keyFile)
	if err != nil {
		return snapshotFile{}, err
	}
	file, err := os.ReadFile(path)
	if err != nil {
		return snapshotFile{}, fmt.Errorf("read snapshot: %w", err)
	}
	c, err := backup.Open(file, key)
	if err != nil {
		return snapshotFile{}, fmt.Errorf("snapshot %s refused: %w", path, err)
	}
	return snapshotFile{key: key, file: file, contents: c}, nil
}

func snapshotInfo(c backup.Contents) wire.SnapshotInfo {
	info := wire.SnapshotInfo{CreatedAt: c.CreatedAt, Node: c.Node, Index: c.Index, Counts: wire.SnapshotCounts(c.Counts)}
	if cert, err := pki.DecodeCert(c.CACert); err == nil {
		info.CAFingerprint = pki.Fingerprint(cert)
	}
	return info
}

func printSnapshotCounts(w io.Writer, c wire.SnapshotCounts) {
	t := newTable(w)
	for _, row := range snapshotRows(c, c) {
		fmt.Fprintf(t, "  %s\t%d\n", row.name, row.after)
	}
	t.Flush()
}

type countRow struct {
	name          string
	before, after int
}

func snapshotRows(before, after wire.SnapshotCounts) []countRow {
	return []countRow{
		{"workflows", before.Workflows, after.Workflows},
		{"workflow versions", before.WorkflowVersions, after.WorkflowVersions},
		{"schedules", before.Schedules, after.Schedules},
		{"jobs", before.Jobs, after.Jobs},
		{"queued jobs", before.QueuedJobs, after.QueuedJobs},
		{"API tokens", before.APITokens, after.APITokens},
		{"robot tokens", before.RobotTokens, after.RobotTokens},
		{"secrets", before.Secrets, after.Secrets},
	}
}

func printRestore(w io.Writer, r wire.SnapshotRestoreResponse) {
	taken := r.Snapshot.CreatedAt.Format("2006-01-02 15:04:05Z07:00")
	t := newTable(w)
	if r.Repeated {
		// What the first try replaced went with its answer.
		fmt.Fprintf(w, "restored the state of %s at index %d (taken %s) on an earlier try, whose answer a leader change lost;\nnot restored again (the cluster is at index %d)\n",
			r.Snapshot.Node, r.Snapshot.Index, taken, r.Index)
		fmt.Fprintln(t, "\tNOW")
		for _, row := range snapshotRows(r.Before, r.After) {
			fmt.Fprintf(t, "%s\t%d\n", row.name, row.after)
		}
	} else {
		fmt.Fprintf(w, "restored the state of %s at index %d (taken %s) at index %d\n", r.Snapshot.Node, r.Snapshot.Index, taken, r.Index)
		fmt.Fprintln(t, "\tBEFORE\tAFTER")
		for _, row := range snapshotRows(r.Before, r.After) {
			fmt.Fprintf(t, "%s\t%d\t%d\n", row.name, row.before, row.after)
		}
	}
	t.Flush()
	fmt.Fprintln(w, "API tokens are now the snapshot's: use a token of the cluster it was saved from (its admin.token)")
	if r.Snapshot.CAFingerprint != "" && r.CAFingerprint != "" && r.Snapshot.CAFingerprint != r.CAFingerprint {
		fmt.Fprintf(w, "note: the snapshot's cluster CA (%s) is not this cluster's (%s):\nrobot tokens carry the old fingerprint: give internet robots new tokens from this cluster,\nor rebuild it with the snapshot's CA (casare operator snapshot ca)\n", r.Snapshot.CAFingerprint, r.CAFingerprint)
	}
}

// writeFileAtomic writes data to path (mode 0600) through a temporary
// file, so a failed save never leaves half a snapshot under the name.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}
