import torch

from vidstyle.flow.occlusion import fb_consistency_mask, motion_boundary_mask, occlusion_mask

H, W, S, X0, Y0, D = 40, 60, 12, 10, 14, 8  # square of side S at (X0, Y0) moves right by D


def square_flows():
    fw = torch.zeros(1, 2, H, W)  # on frame-1 pixels: the square moves by +D
    fw[0, 0, Y0 : Y0 + S, X0 : X0 + S] = D
    bw = torch.zeros(1, 2, H, W)  # on frame-2 pixels: the moved square comes back by -D
    bw[0, 0, Y0 : Y0 + S, X0 + D : X0 + D + S] = -D
    return fw, bw


def test_fb_check_marks_covered_background():
    fw, bw = square_flows()
    m = fb_consistency_mask(fw, bw)
    assert m.shape == (1, 1, H, W) and m.dtype == torch.float32
    rows = slice(Y0 + 1, Y0 + S - 1)
    # background just right of the square in frame 1 is covered by the square in frame 2
    assert m[0, 0, rows, X0 + S + 1 : X0 + S + D - 1].max() == 0
    # the square itself and far background stay visible
    assert m[0, 0, rows, X0 + 1 : X0 + S - 1].min() == 1
    assert m[0, 0, :, X0 + S + D + 2 :].min() == 1
    assert m[0, 0, : Y0 - 2].min() == 1


def test_fb_check_marks_uncovered_background_in_reverse():
    fw, bw = square_flows()
    m = fb_consistency_mask(bw, fw)  # on frame-2 pixels
    rows = slice(Y0 + 1, Y0 + S - 1)
    # the strip the square left behind was hidden in frame 1 (disocclusion)
    assert m[0, 0, rows, X0 + 1 : X0 + D - 1].max() == 0
    assert m[0, 0, rows, X0 + D + 1 : X0 + D + S - 1].min() == 1


def test_motion_boundaries_and_combined_mask():
    fw, bw = square_flows()
    mb = motion_boundary_mask(fw)
    assert mb[0, 0, Y0 + 3, X0 - 1] == 0 and mb[0, 0, Y0 + 3, X0 + S - 1] == 0  # left/right edges
    assert mb[0, 0, Y0 + 3, X0 + 4] == 1 and mb[0, 0, 2, 2] == 1
    # a uniform pan has no motion boundaries
    assert motion_boundary_mask(torch.full((1, 2, 8, 8), 5.0)).min() == 1
    full = occlusion_mask(fw, bw)
    assert (full <= fb_consistency_mask(fw, bw)).all() and (full <= mb).all()
    # out of frame: a pan to the left sends the left columns outside
    pan = torch.zeros(1, 2, H, W)
    pan[:, 0] = -3.0
    m = occlusion_mask(pan, -pan)
    assert m[0, 0, :, :3].max() == 0 and m[0, 0, :, 3:].min() == 1
