package cnn

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/backend"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// TestGroupStepperMatchesColStepper runs the host-fused group stepper (one network, and three networks
// with their own batches) and the graph-only host-column stepper (colStepper, which
// TestHostColumnsGradients checks against the single-graph formulation) for the same steps, batch sizes
// 64 and 23 (a last batch), and all three losses, and requires bitwise equal parameters, Adam moments
// and loss sums: the fused host passes and the batched products must compute exactly what the graph
// computes alone.
func TestGroupStepperMatchesColStepper(t *testing.T) {
	sel, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	be := sel.Backend
	ds, err := mnist.Load(testutil.MNISTDir(t), 8000)
	if err != nil {
		t.Fatal(err)
	}
	const nets = 3
	for _, lk := range []cnnLoss{lossCrossEntropy, lossSmoothL1, lossDoubleSoftmax} {
		var p, mo, v [][8][]float32
		for j := 0; j < nets; j++ {
			p = append(p, Init(uint64(j+1)).Params)
			var zm, zv [8][]float32
			for l, s := range paramShapes {
				zm[l], zv[l] = make([]float32, shapeSize(s)), make([]float32, shapeSize(s))
			}
			mo, v = append(mo, zm), append(v, zv)
		}
		group, err := newGroupStepper(be, lk, p, mo, v)
		if err != nil {
			t.Fatal(err)
		}
		solo := make([]*colStepper, nets)
		for j := range solo {
			if solo[j], err = newColStepper(be, lk, p[j], mo[j], v[j]); err != nil {
				t.Fatal(err)
			}
		}
		for step, bs := range []int{64, 64, 23, 64} {
			c1, c2 := gomlxutil.AdamScalars(1e-3, step+1)
			px, lb := make([][]uint8, nets), make([][]uint8, nets)
			for j := range px {
				lo := (step*7 + j*1000) * 3 // different images for every network and step
				px[j], lb[j] = ds.Pixels[lo*mnist.ImagePixels:(lo+bs)*mnist.ImagePixels], ds.Labels[lo:lo+bs]
				if err := solo[j].step(px[j], lb[j], c1, c2); err != nil {
					t.Fatal(err)
				}
			}
			if err := group.stepGroup(px, lb, c1, c2); err != nil {
				t.Fatal(err)
			}
		}
		gp, gm, gv, err := group.states()
		if err != nil {
			t.Fatal(err)
		}
		gl, err := group.losses()
		if err != nil {
			t.Fatal(err)
		}
		for j := range solo {
			sp, sm, sv, err := solo[j].state()
			if err != nil {
				t.Fatal(err)
			}
			for k, pair := range [][2][8][]float32{{sp, gp[j]}, {sm, gm[j]}, {sv, gv[j]}} {
				for l := range pair[0] {
					for i, x := range pair[0][l] {
						if y := pair[1][l][i]; x != y && !(math.IsNaN(float64(x)) && math.IsNaN(float64(y))) {
							t.Fatalf("loss %d, network %d: %s %s[%d] = %v alone, %v in the group", lk, j,
								[]string{"parameter", "Adam m", "Adam v"}[k], paramNames[l], i, x, y)
						}
					}
				}
			}
			sl, err := solo[j].lossSum()
			if err != nil {
				t.Fatal(err)
			}
			if sl != gl[j] {
				t.Errorf("loss %d, network %d: loss sum %v alone, %v in the group", lk, j, sl, gl[j])
			}
			solo[j].close()
		}
		group.close()
	}
}

// TestGroupForwardMatchesColForward evaluates three networks on 300 rows (a last batch of 44 padded
// rows) in passes of two, with batches of 128 and of 40 (where one network alone takes the small conv1
// kernel), and requires the logits and embeddings of every network to be bitwise those of the
// graph-only host-column forward pass (colForwardExecs, which Forward used before it used
// groupForward, and which TestTorchImportMatchesReference checked against PyTorch).
func TestGroupForwardMatchesColForward(t *testing.T) {
	sel, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	be := sel.Backend
	ds, err := mnist.Load(testutil.MNISTDir(t), 300)
	if err != nil {
		t.Fatal(err)
	}
	ws := []*Weights{Init(1), Init(2), Init(3)}
	execs, err := newColForwardExecs(be)
	if err != nil {
		t.Fatal(err)
	}
	defer execs.Finalize()
	for _, bs := range []int{128, 40} {
		cb, err := newColBatch(be, bs)
		if err != nil {
			t.Fatal(err)
		}
		pixels := make([]uint8, bs*mnist.ImagePixels)
		for lo := 0; lo < len(ws); lo += 2 {
			hi := min(lo+2, len(ws))
			fw, err := newGroupForward(be, ws[lo:hi], bs)
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < ds.N(); s += bs {
				clear(pixels)
				copy(pixels, ds.Pixels[s*mnist.ImagePixels:min(s+bs, ds.N())*mnist.ImagePixels])
				embT, logits, err := fw.run(pixels, true)
				if err != nil {
					t.Fatal(err)
				}
				ef, lf := tensors.MustCopyFlatData[float32](embT), tensors.MustCopyFlatData[float32](logits)
				embT.FinalizeAll()
				logits.FinalizeAll()
				if err := cb.setImages(pixels); err != nil {
					t.Fatal(err)
				}
				for j := 0; j < hi-lo; j++ {
					params := columnTensors(toColumns(ws[lo+j].Params))
					e, l, err := execs.run(cb, params)
					if err != nil {
						t.Fatal(err)
					}
					we, wl := tensors.MustCopyFlatData[float32](e), tensors.MustCopyFlatData[float32](l)
					e.FinalizeAll()
					l.FinalizeAll()
					for _, p := range params {
						p.FinalizeAll()
					}
					for i, v := range wl {
						if got := lf[j*10*bs+i]; got != v {
							t.Fatalf("batch %d, network %d, rows from %d: logit [%d] = %v, graph %v", bs, lo+j, s, i, got, v)
						}
					}
					for i, v := range we {
						if got := ef[j*200*bs+i]; got != v {
							t.Fatalf("batch %d, network %d, rows from %d: embedding [%d] = %v, graph %v", bs, lo+j, s, i, got, v)
						}
					}
				}
			}
			fw.close()
		}
		cb.close()
	}
}

// TestCol2im2Fast checks col2im2 with the vector kernel (addToKernel) against the scalar one on
// random gradients, bitwise.
func TestCol2im2Fast(t *testing.T) {
	for _, b := range []int{1, 7, 64} {
		var dp [4][]float32
		for q := range dp {
			dp[q] = make([]float32, 288*49*b)
			for i := range dp[q] {
				dp[q][i] = float32(math.Sin(float64(i*(q+3)))) * 1e-3
			}
		}
		want, got := make([]float32, 32*196*b), make([]float32, 32*196*b)
		col2im2(want, dp, b, addToScalar)
		col2im2(got, dp, b, addToKernel)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("b=%d: [%d] = %v, scalar %v", b, i, got[i], want[i])
			}
		}
	}
}
