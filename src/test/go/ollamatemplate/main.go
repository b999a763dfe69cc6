// Renders an Ollama Modelfile TEMPLATE with Go's text/template, as Ollama executes it: reads
// {"template": ..., "cases": [{"System", "Tools", "Messages"}]} on stdin, prints the rendered strings as a JSON array.
// The values mimic Ollama's api types where the template sees them: .Function of a tool and .Function.Arguments of a
// tool call print as compact JSON (their String methods marshal them). Standard library only.
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type ToolFunction struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Parameters  any    `json:"parameters"`
}

func (f ToolFunction) String() string { b, _ := json.Marshal(f); return string(b) }

type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

type Arguments map[string]any

func (a Arguments) String() string { b, _ := json.Marshal(map[string]any(a)); return string(b) }

type CallFunction struct {
	Name      string    `json:"name"`
	Arguments Arguments `json:"arguments"`
}

type ToolCall struct {
	Function CallFunction `json:"function"`
}

type Message struct {
	Role      string     `json:"role"`
	Content   string     `json:"content"`
	ToolCalls []ToolCall `json:"tool_calls"`
}

type Values struct {
	System   string    `json:"system"`
	Tools    []Tool    `json:"tools"`
	Messages []Message `json:"messages"`
}

func main() {
	var job struct {
		Template string   `json:"template"`
		Cases    []Values `json:"cases"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&job); err != nil {
		panic(err)
	}
	t := template.Must(template.New("modelfile").Parse(job.Template))
	var out []string
	for _, v := range job.Cases {
		var b strings.Builder
		if err := t.Execute(&b, v); err != nil {
			panic(err)
		}
		out = append(out, b.String())
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
