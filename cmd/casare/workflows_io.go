package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// workflowFileFormat marks an export file, so import refuses other JSON.
const workflowFileFormat = "casare-workflow/1"

// exportFile is one workflow with all its versions: the file that
// `casare workflows export` writes and `import` reads.
type exportFile struct {
	Format   string          `json:"format"`
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Tags     []string        `json:"tags,omitempty"`
	Versions []exportVersion `json:"versions"`
}

type exportVersion struct {
	Version   int             `json:"version"`
	Checksum  string          `json:"checksum,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	Graph     json.RawMessage `json:"graph"`
}

const workflowFilesHelp = `Each workflow is one file, DIR/<name>.json, holding the workflow's name, tags
and every version's graph, oldest first ("format": "casare-workflow/1"). A new
version appends to the file, so a diff in version control shows the change.`

func newWorkflowExportCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Write every workflow, with all its versions, as JSON files into DIR",
		Long:  "Write every workflow, with all its versions, as JSON files into DIR (made if\nmissing; files of the same names are replaced).\n\n" + workflowFilesHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClient(cmd, server)
			list, err := c.Workflows(cmd.Context(), client.Consistent())
			if err != nil {
				return callError("list workflows", server, err)
			}
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("create %s: %w", args[0], err)
			}
			taken := map[string]bool{}
			versions := 0
			for _, wf := range list.Workflows {
				vs, err := c.WorkflowVersions(cmd.Context(), wf.ID, client.Consistent())
				if err != nil {
					return callError("read the versions of workflow "+wf.Name, server, err)
				}
				file := exportFile{Format: workflowFileFormat, ID: wf.ID, Name: wf.Name, Tags: wf.Tags}
				for _, v := range vs.Versions {
					file.Versions = append(file.Versions, exportVersion{Version: v.Version, Checksum: v.Checksum, CreatedAt: v.CreatedAt, Graph: v.Graph})
				}
				path := filepath.Join(args[0], workflowFileName(wf, taken))
				if err := writeExportFile(path, file); err != nil {
					return err
				}
				versions += len(file.Versions)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "exported %d workflows (%d versions) to %s\n", len(list.Workflows), versions, args[0])
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// workflowFileName names a workflow's file after the workflow, in
// characters every file system takes; the id tells apart two names that
// come out the same.
func workflowFileName(wf api.WorkflowSummary, taken map[string]bool) string {
	base := strings.Trim(unsafeFileChars.ReplaceAllString(wf.Name, "_"), "._")
	if base == "" || taken[strings.ToLower(base)] {
		base = strings.TrimLeft(base+"-"+wf.ID, "-")
	}
	taken[strings.ToLower(base)] = true
	return base + ".json"
}

func writeExportFile(path string, f exportFile) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readExportFile reads and checks one export file.
func readExportFile(path string) (exportFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return exportFile{}, err
	}
	var f exportFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case f.Format != workflowFileFormat:
		return f, fmt.Errorf("%s: format %q is not %q (is it a file from casare workflows export?)", path, f.Format, workflowFileFormat)
	case strings.TrimSpace(f.Name) == "":
		return f, fmt.Errorf("%s: the workflow has no name", path)
	case len(f.Versions) == 0:
		return f, fmt.Errorf("%s: the workflow has no versions", path)
	}
	for i, v := range f.Versions {
		if len(v.Graph) == 0 {
			return f, fmt.Errorf("%s: version %d (entry %d) has no graph", path, v.Version, i+1)
		}
	}
	slices.SortStableFunc(f.Versions, func(a, b exportVersion) int { return a.Version - b.Version })
	return f, nil
}

func newWorkflowImportCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "import DIR",
		Short: "Store the workflows of DIR's JSON files; versions the cluster has already are skipped",
		Long: "Store the workflows of DIR's *.json files, each version in order. A version whose\n" +
			"graph equals one the workflow of that name already has is skipped, so importing\n" +
			"the same DIR twice creates nothing the second time. Workflows are matched by\n" +
			"name; a new one gets a new id. Every file is checked before anything is stored.\n\n" +
			workflowFilesHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := filepath.Glob(filepath.Join(args[0], "*.json"))
			if err != nil {
				return err
			}
			if len(paths) == 0 {
				return fmt.Errorf("%s holds no *.json workflow files", args[0])
			}
			var files []exportFile
			for _, p := range paths {
				f, err := readExportFile(p)
				if err != nil {
					return fmt.Errorf("nothing imported: %w", err)
				}
				files = append(files, f)
			}
			imp := importer{c: newClient(cmd, server), server: server, out: cmd.OutOrStdout()}
			for _, f := range files {
				if err := imp.workflow(cmd, f); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "imported %d workflows: %d versions created, %d already present\n", len(files), imp.created, imp.present)
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}

type importer struct {
	c                *client.Client
	server           string
	out              io.Writer
	created, present int
}

// workflow imports one file's versions that the cluster lacks.
func (imp *importer) workflow(cmd *cobra.Command, f exportFile) error {
	have := map[string]bool{} // canonical graphs of the versions stored
	if id, ok, err := imp.findByName(cmd, f.Name); err != nil {
		return err
	} else if ok {
		vs, err := imp.c.WorkflowVersions(cmd.Context(), id, client.Consistent())
		if err != nil {
			return callError("read the versions of workflow "+f.Name, imp.server, err)
		}
		for _, v := range vs.Versions {
			if g, err := api.CanonicalJSON(v.Graph); err == nil {
				have[string(g)] = true
			}
		}
	}
	for _, v := range f.Versions {
		g, err := api.CanonicalJSON(v.Graph)
		if err != nil {
			return fmt.Errorf("workflow %s version %d: %w", f.Name, v.Version, err)
		}
		if have[string(g)] {
			imp.present++
			continue
		}
		resp, err := imp.c.CreateWorkflow(cmd.Context(), wire.CreateWorkflowRequest{WorkflowName: f.Name, WorkflowJSON: v.Graph, Tags: f.Tags, TriggerType: "none"})
		if err != nil {
			return callError(fmt.Sprintf("import workflow %s version %d", f.Name, v.Version), imp.server, err)
		}
		have[string(g)] = true
		if !resp.Created {
			imp.present++
			continue
		}
		imp.created++
		fmt.Fprintf(imp.out, "created %s version %d (from version %d of the file)\n", f.Name, resp.Version, v.Version)
	}
	return nil
}

func (imp *importer) findByName(cmd *cobra.Command, name string) (string, bool, error) {
	list, err := imp.c.Workflows(cmd.Context(), client.Consistent())
	if err != nil {
		return "", false, callError("list workflows", imp.server, err)
	}
	for _, wf := range list.Workflows {
		if wf.Name == name {
			return wf.ID, true, nil
		}
	}
	return "", false, nil
}
