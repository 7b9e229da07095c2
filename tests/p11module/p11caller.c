/* A small PKCS#11 application in C (not Python): loads the module with dlopen, as any PKCS#11
 * host does, and drives it. Built by the tests with gcc; "pkcs11_types.h" is generated from the
 * module's own declarations (pqparsec.p11module.build).
 *
 *   p11caller MODULE list                      every object: "<class> <label>"
 *   p11caller MODULE sign LABEL THREADS COUNT  THREADS threads, each with its own session,
 *                                              COUNT CKM_ECDSA_SHA256 signatures + C_Verify
 *   p11caller MODULE errors LABEL              the return values of calls made to fail
 *   p11caller MODULE down                      C_Initialize and C_GetSlotList with no service
 *
 * Environment P11_SIGN_ONLY: the sign mode skips C_Verify (the benchmark's setting).
 * Environment P11_UID: setuid() to it after C_GetFunctionList (the embedded Python is loaded by
 * then) and before C_Initialize, so the service sees that uid. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkcs11_types.h"

static CK_FUNCTION_LIST_PTR f;
static CK_SLOT_ID slot;
static const char *label;
static int count;
static int failures;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char sample[512];

#define CKA_CLASS 0x0UL
#define CKA_LABEL 0x3UL
#define CKA_VALUE 0x11UL
#define CKO_PUBLIC_KEY 2UL
#define CKO_PRIVATE_KEY 3UL
#define CKM_ECDSA_SHA256 0x1044UL
#define CKF_SERIAL_SESSION 0x4UL
#define CKF_RW_SESSION 0x2UL

static void report(const char *what, CK_RV rv) { printf("%s 0x%lx\n", what, rv); }

static CK_RV first_slot(void)
{
    CK_SLOT_ID slots[16];
    CK_ULONG n = 16;
    CK_RV rv = f->C_GetSlotList(1, slots, &n);
    if (rv == 0 && n == 0) return 0xE0UL;
    if (rv == 0) slot = slots[0];
    return rv;
}

static CK_OBJECT_HANDLE find(CK_SESSION_HANDLE s, CK_ULONG cls, const char *name)
{
    CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof cls},
                         {CKA_LABEL, (void *)name, (CK_ULONG)strlen(name)}};
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG n = 0;
    if (f->C_FindObjectsInit(s, t, 2) != 0) return 0;
    if (f->C_FindObjects(s, &h, 1, &n) != 0 || n != 1) h = 0;
    f->C_FindObjectsFinal(s);
    return h;
}

static int list(void)
{
    CK_SLOT_ID slots[16];
    CK_ULONG nslots = 16;
    CK_RV rv = f->C_GetSlotList(1, slots, &nslots);
    if (rv) { report("C_GetSlotList", rv); return 1; }
    for (CK_ULONG i = 0; i < nslots; i++) {
        CK_SESSION_HANDLE s;
        CK_OBJECT_HANDLE objs[64];
        CK_ULONG n = 0;
        if ((rv = f->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL, NULL, &s))) {
            report("C_OpenSession", rv); return 1;
        }
        f->C_FindObjectsInit(s, NULL, 0);
        f->C_FindObjects(s, objs, 64, &n);
        f->C_FindObjectsFinal(s);
        for (CK_ULONG j = 0; j < n; j++) {
            CK_ULONG cls = 0;
            char name[256] = {0};
            CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof cls}, {CKA_LABEL, name, 255}};
            if (f->C_GetAttributeValue(s, objs[j], t, 2) == 0)
                printf("%lu %s\n", cls, name);
        }
        f->C_CloseSession(s);
    }
    return 0;
}

static void *signer(void *arg)
{
    CK_SESSION_HANDLE s;
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    int bad = 0, verify = getenv("P11_SIGN_ONLY") == NULL;
    (void)arg;
    if (f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s)) {
        pthread_mutex_lock(&mu); failures += count; pthread_mutex_unlock(&mu);
        return NULL;
    }
    CK_OBJECT_HANDLE priv = find(s, CKO_PRIVATE_KEY, label), pub = find(s, CKO_PUBLIC_KEY, label);
    for (int i = 0; i < count; i++) {
        unsigned char msg[32], sig[256];
        CK_ULONG len = sizeof sig;
        int mlen = snprintf((char *)msg, sizeof msg, "message %lu/%d", (unsigned long)s, i);
        if (!priv || !pub || f->C_SignInit(s, &m, priv) || f->C_Sign(s, msg, mlen, sig, &len)
                || (verify && (f->C_VerifyInit(s, &m, pub) || f->C_Verify(s, msg, mlen, sig, len)))) {
            bad++;
            continue;
        }
        if (i == count - 1) {
            pthread_mutex_lock(&mu);
            char *p = sample;
            p += sprintf(p, "sample ");
            for (int k = 0; k < mlen; k++) p += sprintf(p, "%02x", msg[k]);
            p += sprintf(p, " ");
            for (CK_ULONG k = 0; k < len; k++) p += sprintf(p, "%02x", sig[k]);
            pthread_mutex_unlock(&mu);
        }
    }
    f->C_CloseSession(s);
    pthread_mutex_lock(&mu); failures += bad; pthread_mutex_unlock(&mu);
    return NULL;
}

static int sign(int threads)
{
    pthread_t t[64];
    struct timespec a, b;
    CK_RV rv = first_slot();
    if (rv) { report("C_GetSlotList", rv); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, signer, NULL);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    printf("signatures %d failures %d seconds %.3f\n", threads * count - failures, failures, secs);
    printf("%s\n", sample);
    return failures != 0;
}

static int errors(void)
{
    CK_SESSION_HANDLE s, rw;
    CK_ULONG n;
    CK_MECHANISM ecdsa = {CKM_ECDSA_SHA256, NULL, 0}, bad_mech = {0x250UL, NULL, 0};
    unsigned char sig[256], data[] = "data";
    CK_ULONG len;
    report("init", f->C_Initialize(NULL));
    report("init_again", f->C_Initialize(NULL));
    report("slot_list_null_count", f->C_GetSlotList(1, NULL, NULL));
    report("first_slot", first_slot());
    report("open_bad_slot", f->C_OpenSession(999, CKF_SERIAL_SESSION, NULL, NULL, &s));
    report("open_not_serial", f->C_OpenSession(slot, 0, NULL, NULL, &s));
    {
        CK_SESSION_INFO si;
        report("session_info_bad", f->C_GetSessionInfo(12345, &si));
    }
    report("open", f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
    CK_OBJECT_HANDLE priv = find(s, CKO_PRIVATE_KEY, label), pub = find(s, CKO_PUBLIC_KEY, label);
    printf("found %d\n", priv != 0 && pub != 0);
    {
        char buf[8];
        CK_ULONG cls;
        CK_ATTRIBUTE value = {CKA_VALUE, buf, sizeof buf};
        CK_ATTRIBUTE unknown = {0x9999UL, buf, sizeof buf};
        CK_ATTRIBUTE small = {CKA_LABEL, buf, 1};
        CK_ATTRIBUTE cls_a = {CKA_CLASS, &cls, sizeof cls};
        report("attr_bad_object", f->C_GetAttributeValue(s, 99999, &cls_a, 1));
        report("attr_sensitive", f->C_GetAttributeValue(s, priv, &value, 1));
        printf("attr_sensitive_len 0x%lx\n", value.ulValueLen);
        report("attr_unknown", f->C_GetAttributeValue(s, priv, &unknown, 1));
        report("attr_small", f->C_GetAttributeValue(s, priv, &small, 1));
        report("attr_class", f->C_GetAttributeValue(s, priv, &cls_a, 1));
        printf("class %lu\n", cls);
    }
    report("sign_not_initialized", f->C_Sign(s, data, 4, sig, &len));
    report("sign_init_bad_key", f->C_SignInit(s, &ecdsa, 99999));
    report("sign_init_bad_mech", f->C_SignInit(s, &bad_mech, priv));
    report("sign_init_public_key", f->C_SignInit(s, &ecdsa, pub));
    report("sign_init", f->C_SignInit(s, &ecdsa, priv));
    report("sign_init_active", f->C_SignInit(s, &ecdsa, priv));
    len = 0;
    report("sign_length", f->C_Sign(s, data, 4, NULL, &len));
    printf("sign_length_value %lu\n", len);
    len = 10;
    report("sign_small", f->C_Sign(s, data, 4, sig, &len));
    len = sizeof sig;
    report("sign", f->C_Sign(s, data, 4, sig, &len));
    report("sign_after_end", f->C_Sign(s, data, 4, sig, &len));
    report("verify_init", f->C_VerifyInit(s, &ecdsa, pub));
    report("verify", f->C_Verify(s, data, 4, sig, len));
    sig[5] ^= 1;
    f->C_VerifyInit(s, &ecdsa, pub);
    report("verify_bad", f->C_Verify(s, data, 4, sig, len));
    f->C_VerifyInit(s, &ecdsa, pub);
    report("verify_short", f->C_Verify(s, data, 4, sig, len - 1));
    f->C_SignInit(s, &ecdsa, priv);
    f->C_SignUpdate(s, data, 2);
    f->C_SignUpdate(s, data + 2, 2);
    len = sizeof sig;
    report("sign_final", f->C_SignFinal(s, sig, &len));
    f->C_VerifyInit(s, &ecdsa, pub);
    report("verify_one_part_of_multi", f->C_Verify(s, data, 4, sig, len));
    report("destroy_ro", f->C_DestroyObject(s, priv));
    report("login", f->C_Login(s, 1, (unsigned char *)"any", 3));
    report("login_again", f->C_Login(s, 1, (unsigned char *)"other", 5));
    report("logout", f->C_Logout(s));
    report("logout_again", f->C_Logout(s));
    report("seed", f->C_SeedRandom(s, data, 4));
    report("random", f->C_GenerateRandom(s, sig, 100));
    report("digest_init", f->C_DigestInit(s, &bad_mech));
    report("open_rw", f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                       &rw));
    report("close", f->C_CloseSession(s));
    report("close_again", f->C_CloseSession(s));
    report("find_closed", f->C_FindObjectsInit(s, NULL, 0));
    report("find_objects_not_init", f->C_FindObjects(rw, &n, 1, &n));
    report("finalize", f->C_Finalize(NULL));
    report("finalize_again", f->C_Finalize(NULL));
    report("slot_list_after_finalize", f->C_GetSlotList(1, NULL, &n));
    return 0;
}

int main(int argc, char **argv)
{
    CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
    void *lib;
    CK_RV rv;
    if (argc < 3) return 2;
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
    get = (CK_RV (*)(CK_FUNCTION_LIST_PTR_PTR))dlsym(lib, "C_GetFunctionList");
    if (!get || (rv = get(&f))) { fprintf(stderr, "C_GetFunctionList failed\n"); return 2; }
    printf("version %d.%d\n", f->version.major, f->version.minor);
    if (strcmp(argv[2], "errors") == 0) {
        CK_ULONG n;
        report("before_init", f->C_GetSlotList(1, NULL, &n));
    }
    if (getenv("P11_UID")) {
        uid_t uid = (uid_t)atoi(getenv("P11_UID"));
        if (setgid(uid) || setuid(uid)) { perror("setuid"); return 2; }
    }
    if (strcmp(argv[2], "errors") == 0) {
        if (argc < 4) return 2;
        label = argv[3];
        return errors();
    }
    if ((rv = f->C_Initialize(NULL))) { report("C_Initialize", rv); return 1; }
    if (strcmp(argv[2], "list") == 0) return list();
    if (strcmp(argv[2], "down") == 0) {
        CK_ULONG n;
        report("slot_list", f->C_GetSlotList(1, NULL, &n));
        report("finalize", f->C_Finalize(NULL));
        return 0;
    }
    if (strcmp(argv[2], "sign") == 0 && argc == 6) {
        label = argv[3];
        count = atoi(argv[5]);
        return sign(atoi(argv[4]));
    }
    return 2;
}
