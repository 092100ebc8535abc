package sshapp

// The model draws every cell of its terminal on a full repaint, so its cost
// grows with the size it is told. The SSH layer clamps what a client reports
// (limits.SessionConfig.MaxCols/MaxRows); the model clamps again, so no
// caller can make a frame cost more than this.
const (
	modelMaxCols = 4096
	modelMaxRows = 4096
)

// drawCols is the width the model draws at for a reported width.
func drawCols(w int) int { return min(max(w, 1), modelMaxCols) }

// drawRows is the height the model draws at for a reported height.
func drawRows(h int) int { return min(max(h, 1), modelMaxRows) }
