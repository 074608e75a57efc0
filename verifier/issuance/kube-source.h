/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The `kubernetes` token source: the boot's token made a kubeadm bootstrap token by creating its
 * Secret through the API server (libcurl, the cluster CA pinned), in-cluster or from a
 * kubeconfig (docs/verifier.md, "Token sources"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define KUBE_TTL_DEFAULT      900 /* s: kubeadm's default token TTL is 24 h; a node needs minutes */
#define KUBE_TTL_MIN          60
#define KUBE_TTL_MAX          86400
#define KUBE_DEADLINE_DEFAULT 10000 /* ms for one token, retries included */
#define KUBE_GROUP_DEFAULT    "system:bootstrappers:nodegate"
#define KUBE_NAMESPACE        "kube-system"
/* Where a pod finds its ServiceAccount (NODEGATE_KUBE_SERVICEACCOUNT_DIR overrides it, for
 * tests of the in-cluster path). */
#define KUBE_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_options {
        unsigned ttl_sec;     /* the Secret's expiration: now + this */
        const char *groups;   /* auth-extra-groups, comma-separated; NULL: KUBE_GROUP_DEFAULT */
        unsigned deadline_ms; /* one token, all attempts; 0: KUBE_DEADLINE_DEFAULT */
};

struct kube_source;

/* kubeconfig NULL: in-cluster (KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount's token and CA);
 * otherwise that kubeconfig's current context: server, certificate-authority(-data), and token,
 * tokenFile or client-certificate(-data) + client-key(-data). Everything but the bearer token
 * (re-read on each call: projected tokens rotate) is read and checked now. exec plugins,
 * auth-provider and insecure-skip-tls-verify are refused.
 * @return 0, or negative errno with a one-line reason in err */
int kube_source_new(const char *kubeconfig, const struct kube_options *o, struct kube_source **ret,
                    char *err, size_t errlen);
void kube_source_free(struct kube_source *ks);

/* Makes token ([a-z0-9]{6}.[a-z0-9]{16}) exist as the bootstrap token Secret
 * kube-system/bootstrap-token-<id>, its description naming node (the hostname claim). Idempotent:
 * a Secret of that name holding the same token-secret is success; one holding another is
 * -EEXIST. 429 and 5xx answers and failed connections are retried with backoff (Retry-After
 * honoured) within the deadline. Nothing of the token-secret ever reaches err.
 * @return 0, or -EEXIST (a different token), -EACCES (401/403), -ETIMEDOUT (deadline),
 * -ECONNREFUSED / -EIO (transport, TLS), -EPROTO (another answer), with the reason in err */
int kube_source_put(struct kube_source *ks, const char *token, const char *node, char *err,
                    size_t errlen);

/* kubeadm's rule for an extra group: \Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z */
bool kube_group_valid(const char *group, size_t len);
