# SPDX-License-Identifier: GPL-2.0-only
# Reference: R's binom.test two-sided p-value, exact rational arithmetic.
from fractions import Fraction as F
from math import comb, ceil, floor
def pmf(k,n,p): return comb(n,k)*p**k*(1-p)**(n-k)
def binom_test(x,n,p):
    p=F(p); m=n*p
    if x==m: return F(1)
    d=pmf(x,n,p); rel=F(1)+F(1,10**7)
    if x<m:
        y=sum(1 for i in range(ceil(m),n+1) if pmf(i,n,p)<=d*rel)
        return min(F(1), sum(pmf(k,n,p) for k in range(0,x+1)) + sum(pmf(k,n,p) for k in range(n-y+1,n+1)))
    else:
        y=sum(1 for i in range(0,floor(m)+1) if pmf(i,n,p)<=d*rel)
        return min(F(1), sum(pmf(k,n,p) for k in range(0,y)) + sum(pmf(k,n,p) for k in range(x,n+1)))
for a,b,ua,ub in [(10,30,1,1),(400,380,1,1),(3000,3010,1,1),(100,150,10,F(25,2)),(0,5,1,1),(0,8,1,1),(2000,2500,1,1),(30,10,1,1),(7,0,2,1),(1000,1000,1,1),(120,95,1,1)]:
    p=F(ua)/(F(ua)+F(ub))
    print(a,b,ua,ub, "%.17g"%float(binom_test(a,a+b,p)))
