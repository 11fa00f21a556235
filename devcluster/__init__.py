"""A real, local Kubernetes control plane (etcd + kube-apiserver) for tests, demo and bench.

No cluster and no Docker engine exist on the machines this project is built on; a real
kube-apiserver built from Debian's source package (hack/build-apiserver.sh) gives tests
real RBAC, real ServiceAccount tokens, real preconditions and real validation.
See DESIGN.md §9 for what it can and cannot do (no controllers: no garbage collection).
"""
