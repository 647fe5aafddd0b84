# The prefix-cached sweep's best case against the naive one, from a per-step FLOP model of an SD-structure U-Net
# (convolutions, attention projections and scores, GEGLU feed-forward, in diffusers' execution order; norms and
# the time embedding ignored). Per batch: naive = T + sum_i (T - t_i), fast = T + sum_i sum_{k after unit i} t_k.
# Usage: python3 build/bench/sweep_flop_bound.py   (tiny-sd15 and digits; see src/LaptopDiff.Runtime/Pruning/Sweep.md)
def conv(ci, co, k, hw): return 2*ci*co*k*k*hw
def resnet(ci, co, hw):
    f = conv(ci, co, 3, hw) + conv(co, co, 3, hw)
    if ci != co: f += conv(ci, co, 1, hw)
    return f
def block(c, hw, T, D):
    f = 4*2*c*c*hw + 2*2*hw*hw*c                  # self-attn projections + QK^T, AV
    f += 2*2*c*c*hw + 2*2*D*c*T + 2*2*hw*T*c      # cross-attn q,out + k,v + scores
    f += 2*c*8*c*hw + 2*4*c*c*hw                  # GEGLU feed-forward
    return f
def shell(c, hw): return 2*2*c*c*hw               # proj_in + proj_out (1x1)
def unet(S, cin, down, mid, up, T, D):
    """S: sample size; stages (kind 'x' attention | 'p' plain, channels, layers, resample); T tokens of width D."""
    steps = []   # (name, flops, prunable)
    hw = S*S; c0 = down[0][1]
    steps.append(("conv_in", conv(cin, c0, 3, hw), False))
    skips = [c0]; h = c0
    for i,(kind,c,L,res) in enumerate(down):
        for l in range(L):
            steps.append((f"d{i}r{l}", resnet(h, c, hw), h == c)); h = c
            if kind == "x": steps.append((f"d{i}a{l}", shell(c,hw)+block(c,hw,T,D), True))
            skips.append(h)
        if res:
            steps.append((f"d{i}down", conv(c, c, 3, hw//4), False)); hw //= 4; skips.append(h)
    if mid:
        steps.append(("m r0", resnet(h,h,hw), True)); steps.append(("m a", shell(h,hw)+block(h,hw,T,D), True)); steps.append(("m r1", resnet(h,h,hw), True))
    for i,(kind,c,L,res) in enumerate(up):
        for l in range(L):
            s = skips.pop()
            steps.append((f"u{i}r{l}", resnet(h+s, c, hw), h == c)); h = c
            if kind == "x": steps.append((f"u{i}a{l}", shell(c,hw)+block(c,hw,T,D), True))
        if res:
            hw *= 4; steps.append((f"u{i}up", conv(c, c, 3, hw), False))
    steps.append(("conv_out", conv(h, 4, 3, hw), False))
    return steps
def bound(steps):
    t = [f for _,f,_ in steps]; T = sum(t)
    naive = T; fast = T; n = 0
    for k,(name,f,p) in enumerate(steps):
        if not p: continue
        n += 1; naive += T - f; fast += sum(t[k+1:])
    return n, fast/naive
tiny = unet(16, 4, [("x",32,2,True),("p",64,2,False)], True, [("p",64,3,True),("x",32,3,False)], 77, 32)
digits = unet(32, 1, [("p",16,2,True),("p",32,2,True),("x",64,2,True),("x",64,2,False)], True,
              [("x",64,3,True),("x",64,3,True),("p",32,3,True),("p",16,3,False)], 1, 32)
for name, s in [("tiny-sd15", tiny), ("digits", digits)]:
    n, r = bound(s); print(name, "units", n, "fast/naive FLOP ratio %.3f -> at most %.2fx" % (r, 1/r))
